package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
