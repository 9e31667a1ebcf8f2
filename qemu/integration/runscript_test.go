package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gomenuos/qemu/harness"
)

// TestRunScriptPiped is `printf 'help\nquit\n' | make run`: qemu/run.sh
// boots, the piped lines run in order and quit makes QEMU exit 0.
func TestQEMURunScriptPiped(t *testing.T) {
	dir := harness.BuildDir()
	if err := harness.CheckImage(dir); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../run.sh")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, "run")
	cmd.Env = append(os.Environ(), harness.BuildEnv+"="+dir)
	cmd.Stdin = strings.NewReader("help\nquit\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("run.sh: %v\n%s", err, out.String())
	}
	want := banner + prompt + crlf(builtinHelp)
	if !strings.Contains(out.String(), want) {
		t.Errorf("output lacks banner, prompt and help:\n%q", out.String())
	}
	if !strings.HasSuffix(out.String(), prompt+"quit\r\n") {
		t.Errorf("output does not end with the quit line: %q", tail(out.String()))
	}
}

// TestQEMUMakeDebugThenGDB is the README's `make debug` + `make gdb` when
// port 1234 is already taken: run.sh says so in one line and waits on
// another port, `run.sh gdb` finds that port without being told, stops in
// the shell's dispatcher, and the guest has make run's NIC.
func TestQEMUMakeDebugThenGDB(t *testing.T) {
	dir := privateBuild(t)
	if l, err := net.Listen("tcp", "127.0.0.1:1234"); err == nil {
		t.Cleanup(func() { l.Close() })
	} // else taken already: what the test wants
	fwd, err := harness.FreePort()
	require.NoError(t, err)
	runsh := filepath.Join(repoRoot(t), "qemu/run.sh")
	m := harness.StartT(t, harness.Config{BuildDir: dir, Command: []string{runsh, "debug"},
		Env: []string{harness.BuildEnv + "=" + dir, fmt.Sprintf("HOSTFWD_PORT=%d", fwd)}})

	portFile := filepath.Join(dir, "gdb.port")
	var port string
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(portFile)
		port = strings.TrimSpace(string(b))
		return err == nil && port != ""
	}, 30*time.Second, 50*time.Millisecond, "run.sh debug wrote no %s; stderr: %s", portFile, m.Stderr())
	assert.Contains(t, m.Stderr(), "run.sh: port 1234 is in use (another guest?); gdb's stub waits on port "+
		port+" instead (GDB_PORT= to choose)\n")
	assert.Contains(t, m.Stderr(), fmt.Sprintf("run.sh: host 127.0.0.1:%d is forwarded to the guest's port 5001\n", fwd))

	g := startMakeGDB(t, harness.BuildEnv+"="+dir)
	g.send("break '"+dispatchSym+"'", "continue")
	_, err = m.Expect(banner+prompt, bootTimeout*2)
	require.NoError(t, err, "guest under gdb did not reach the prompt; gdb: %s", g.drain())
	m.Send("ifconfig\r")
	g.expect(t, regexp.MustCompile(`^Breakpoint 1, .*`+regexp.QuoteMeta(dispatchSym)))
	g.send("detach", "quit")
	g.wait(t)
	assert.Contains(t, g.output(), "run.sh: attaching to the guest on 127.0.0.1:"+port+"\n")

	// make run's NIC: virtio-net on user networking, the guest at 10.0.2.15.
	out, err := m.Expect(prompt, cmdTimeout)
	require.NoError(t, err)
	assert.Contains(t, out, "inet 10.0.2.15")
	m.Send("quit\r")
	status, err := m.Wait(cmdTimeout)
	require.NoError(t, err)
	assert.Equal(t, 0, status)
	assert.NoFileExists(t, portFile, "run.sh debug leaves no port behind once QEMU exits")
}

// privateBuild is a build directory of links to the image, so that files
// run.sh keeps there (gdb.port) belong to this test alone.
func privateBuild(t *testing.T) string {
	t.Helper()
	src := harness.BuildDir()
	require.NoError(t, harness.CheckImage(src))
	dir := t.TempDir()
	boot, kernel, initramfs := harness.Image(src)
	for _, f := range []string{boot, kernel, initramfs} {
		require.NoError(t, os.Symlink(f, filepath.Join(dir, filepath.Base(f))))
	}
	return dir
}
