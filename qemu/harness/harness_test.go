package harness

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test binary doubles as a fake serial console: with fakeEnv set it
// prints a banner and a prompt and answers lines, so the harness is tested
// without QEMU or a kernel image.
const fakeEnv = "GOMENUOS_HARNESS_FAKE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) != "" {
		fakeConsole()
		return
	}
	os.Exit(m.Run())
}

func fakeConsole() {
	fmt.Print("BANNER\nMenuOS>>")
	in := bufio.NewScanner(os.Stdin)
	// A line ends at \n or, as typed at the kernel's console, at \r,
	// which the console echoes as \r\n.
	cr := false
	in.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := strings.IndexAny(string(data), "\r\n"); i >= 0 {
			cr = data[i] == '\r'
			return i + 1, data[:i], nil
		}
		return 0, nil, nil
	})
	for in.Scan() {
		if line := in.Text(); cr {
			fmt.Print(line + "\r\n")
			switch line {
			case "job": // a background job that prints after the prompt; the console redraws it
				fmt.Print("started\r\nMenuOS>>")
				time.Sleep(200 * time.Millisecond)
				fmt.Print("\r\njob done\r\nMenuOS>>")
			default:
				fmt.Printf("ran %s\r\nMenuOS>>", line)
			}
			continue
		}
		switch line := in.Text(); line {
		case "quit":
			os.Exit(0)
		case "crash":
			fmt.Print("fault\n")
			os.Exit(3)
		case "hang":
			time.Sleep(time.Hour)
		default:
			fmt.Printf("%s\ngot %d bytes\nMenuOS>>", line, len(line))
		}
	}
	os.Exit(7) // EOF on the console
}

func fake(t *testing.T, timeout time.Duration) *Machine {
	t.Helper()
	return StartT(t, Config{Command: []string{os.Args[0]}, Env: []string{fakeEnv + "=1"},
		Timeout: timeout, BuildDir: t.TempDir()})
}

func TestExpectConsumesOutput(t *testing.T) {
	m := fake(t, 10*time.Second)
	got, err := m.Expect("MenuOS>>", 5*time.Second)
	if err != nil || got != "BANNER\nMenuOS>>" {
		t.Fatalf("Expect = %q, %v; want the banner and the prompt", got, err)
	}
	// The prompt was consumed: a second Expect must wait for new output.
	if _, err := m.Expect("MenuOS>>", 200*time.Millisecond); err == nil {
		t.Fatal("second Expect matched already-consumed output")
	}
	if err := m.Send("hello\n"); err != nil {
		t.Fatal(err)
	}
	text, groups, err := m.ExpectRegexp(regexp.MustCompile(`got (\d+) bytes\n`), 5*time.Second)
	if err != nil || text != "hello\ngot 5 bytes\n" || groups[1] != "5" {
		t.Fatalf("ExpectRegexp = %q %q %v", text, groups, err)
	}
}

// Command returns what a command printed after its echo, so a prompt
// the console redrew after a background job's output is not taken for
// the next command's end.
func TestCommandSkipsARedrawnPrompt(t *testing.T) {
	m := fake(t, 10*time.Second)
	_, err := m.Expect("MenuOS>>", 5*time.Second)
	require.NoError(t, err)
	out, err := m.Command("job", "MenuOS>>", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "started\r\n", out)
	time.Sleep(400 * time.Millisecond) // the job's line and the redrawn prompt are in
	out, err = m.Command("next", "MenuOS>>", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "ran next\r\n", out)
	out, err = m.Command("last", "MenuOS>>", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "ran last\r\n", out)
}

func TestWaitExitStatus(t *testing.T) {
	for _, tc := range []struct {
		input string
		want  int
	}{{"quit\n", 0}, {"crash\n", 3}} {
		m := fake(t, 10*time.Second)
		if _, err := m.Expect("MenuOS>>", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		m.Send(tc.input)
		if got, err := m.Wait(5 * time.Second); err != nil || got != tc.want {
			t.Errorf("after %q: Wait = %d, %v; want %d", tc.input, got, err, tc.want)
		}
	}
}

func TestExpectFailsFastWhenGuestExits(t *testing.T) {
	m := fake(t, 10*time.Second)
	m.Send("crash\n")
	start := time.Now()
	_, err := m.Expect("never printed", 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "console closed") {
		t.Fatalf("Expect after exit: %v; want a console closed error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Expect took %v after the guest exited", d)
	}
}

func TestWatchdogKillsHungGuest(t *testing.T) {
	m := fake(t, 300*time.Millisecond)
	m.Send("hang\n")
	if _, err := m.Wait(5 * time.Second); !errors.Is(err, ErrWatchdog) {
		t.Fatalf("Wait = %v; want ErrWatchdog", err)
	}
}

func TestWaitTimeoutKills(t *testing.T) {
	m := fake(t, 10*time.Second)
	m.Send("hang\n")
	if _, err := m.Wait(200 * time.Millisecond); err == nil {
		t.Fatal("Wait on a hung guest returned no error")
	}
	select {
	case <-m.done:
	default:
		t.Fatal("guest still running after Wait timed out")
	}
}

func TestSaveTranscript(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(TranscriptEnv, dir)
	m := fake(t, 10*time.Second)
	m.Send("abc\nquit\n")
	m.Wait(5 * time.Second)
	path, err := m.SaveTranscript("TestX/sub")
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "TestX_sub.log") {
		t.Errorf("path = %s", path)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "BANNER\nMenuOS>>abc\ngot 3 bytes\nMenuOS>>") {
		t.Errorf("transcript lacks the console output:\n%s", b)
	}
}

func TestArgsQEMUCommandLine(t *testing.T) {
	c := Config{BuildDir: "/b", Cmdline: "selftest=gc", GDBPort: 4321, WaitGDB: true,
		ExtraArgs: []string{"-netdev", "user,id=n0"}}
	want := "qemu-system-x86_64 -accel tcg -m 512M -display none -vga none -nic none -no-reboot -kernel /b/boot.elf " +
		"-initrd /b/kernel.elf,/b/initramfs.cpio -append selftest=gc " +
		"-device isa-debug-exit,iobase=0xf4,iosize=0x04 -serial stdio -monitor none " +
		"-gdb tcp:127.0.0.1:4321 -S -netdev user,id=n0"
	if got := strings.Join(c.Args(), " "); got != want {
		t.Errorf("Args =\n%s\nwant\n%s", got, want)
	}
}

func TestCheckImageMissing(t *testing.T) {
	err := CheckImage(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "boot.elf") {
		t.Fatalf("CheckImage(empty dir) = %v; want an error naming boot.elf", err)
	}
}

func TestBuildDirFromEnv(t *testing.T) {
	t.Setenv(BuildEnv, "/x/build")
	if got := BuildDir(); got != "/x/build" {
		t.Errorf("BuildDir = %s", got)
	}
	t.Setenv(BuildEnv, "")
	if got := BuildDir(); !strings.HasSuffix(got, "/build") || strings.Contains(got, "qemu/") {
		t.Errorf("BuildDir fallback = %s; want <repo root>/build", got)
	}
}

// TestFreePortDistinct: ports come from below the ephemeral range and are
// never handed out twice.
func TestFreePortDistinct(t *testing.T) {
	seen := map[int]bool{}
	for range 50 {
		p, err := FreePort()
		require.NoError(t, err)
		require.False(t, seen[p], "port %d handed out twice", p)
		require.GreaterOrEqual(t, p, portLo)
		require.Less(t, p, ephemeralLo())
		seen[p] = true
	}
}

// TestReserveSkipsTakenPorts: a port someone listens on, or that another
// process's harness holds (its lock file locked through another open file
// description, as another process would), is not reserved.
func TestReserveSkipsTakenPorts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	ok, err := reserve(l.Addr().(*net.TCPAddr).Port)
	require.NoError(t, err)
	assert.False(t, ok, "reserved a port with a listener")

	p, err := FreePort() // makes the lock directory
	require.NoError(t, err)
	var q int
	for q = p + 1; ; q++ { // the next port whose lock nobody holds: hold it
		f, err := os.OpenFile(filepath.Join(os.TempDir(), "gomenuos-ports", strconv.Itoa(q)), os.O_CREATE|os.O_RDWR, 0o666)
		require.NoError(t, err)
		defer f.Close()
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			break
		}
	}
	ok, err = reserve(q)
	require.NoError(t, err)
	assert.False(t, ok, "reserved a port another harness holds")
}

func TestNetArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{UserNet("tcp:127.0.0.1:15001-:5001"),
			"-netdev user,id=n0,hostfwd=tcp:127.0.0.1:15001-:5001 -device virtio-net-pci,netdev=n0,romfile="},
		{TapNet("tap0"),
			"-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=n0,romfile="},
		{PcapDump("/tmp/x.pcap"), "-object filter-dump,id=dump0,netdev=n0,file=/tmp/x.pcap"},
	} {
		if got := strings.Join(tc.args, " "); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}
