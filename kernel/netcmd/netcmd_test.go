package netcmd

import (
	"bytes"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gomenuos/kernel/menu"
	"gomenuos/net/clock"
	"gomenuos/net/inet"
	"gomenuos/net/link"
	"gomenuos/net/stack"
	"gomenuos/net/tcp"
	"gomenuos/sched"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T) (*Env, *syncBuf) {
	t.Helper()
	st := stack.New(stack.Options{Clock: clock.Real()})
	lo := link.NewLoopback()
	t.Cleanup(func() { lo.Close() })
	if _, err := st.AddInterface(lo, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		t.Fatal(err)
	}
	bg := &syncBuf{}
	return &Env{Net: inet.NewNet(st, clock.Real(), tcp.DefaultConfig()), Stack: st, Background: bg}, bg
}

func runCmd(t *testing.T, cmd menu.Command, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := cmd.Run(&menu.Ctx{Out: &out, Task: sched.NewTask(cmd.Name)}, args); err != nil {
		t.Fatalf("%s: %v", cmd.Name, err)
	}
	return out.String()
}

func find(cmds []menu.Command, name string) menu.Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
	}
	panic(name)
}

// MenuOS's lab transcript over the loopback device.
func TestReplyhiHelloTranscript(t *testing.T) {
	env, bg := newEnv(t)
	cmds := Commands(env)
	if out := runCmd(t, find(cmds, "replyhi")); out != "Please input hello...\n" {
		t.Fatalf("replyhi printed %q", out)
	}
	out := runCmd(t, find(cmds, "hello"))
	if out != "send \"hello\" to 127.0.0.1:5001\nrecv \"hi\" from 127.0.0.1:5001\n" {
		t.Fatalf("hello printed %q", out)
	}
	deadline := time.Now().Add(5 * time.Second)
	re := regexp.MustCompile(`^recv "hello" from 127\.0\.0\.1:(\d+)\nsend "hi" to 127\.0\.0\.1:(\d+)\n$`)
	for !re.MatchString(bg.String()) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	m := re.FindStringSubmatch(bg.String())
	if m == nil || m[1] != m[2] || m[1] == "5001" {
		t.Fatalf("server printed %q", bg.String())
	}
	// A second server cannot bind while the first listens.
	if out := runCmd(t, find(cmds, "replyhi")); !strings.HasPrefix(out, "Bind Error,") {
		t.Fatalf("second replyhi printed %q", out)
	}
}

func TestHelloWithoutServerIsRefused(t *testing.T) {
	env, _ := newEnv(t)
	out := runCmd(t, find(Commands(env), "hello"))
	if !strings.HasPrefix(out, "Connect Error,") || !strings.Contains(strings.ToLower(out), "refused") {
		t.Fatalf("hello printed %q", out)
	}
}

func TestHelloBadArguments(t *testing.T) {
	env, _ := newEnv(t)
	err := find(Commands(env), "hello").Run(&menu.Ctx{Out: &bytes.Buffer{}, Task: sched.NewTask("x")}, []string{"nohost"})
	if err == nil || err.Error() != `hello: bad IPv4 address "nohost"` {
		t.Fatalf("got %v", err)
	}
}

func TestProcAddr(t *testing.T) {
	if got := procAddr("0100007F:1389"); got != "127.0.0.1:5001" {
		t.Fatalf("got %s", got)
	}
}

func TestNetbenchRoundTrips(t *testing.T) {
	env, _ := newEnv(t)
	out := runCmd(t, find(Commands(env), "netbench"), "200")
	if !regexp.MustCompile(`^netbench: 200 round trips in \S+: \d+/s, 0 errors, heap in use \d+ KiB -> \d+ KiB\n$`).MatchString(out) {
		t.Fatalf("netbench printed %q", out)
	}
	// The port is free again afterwards.
	out = runCmd(t, find(Commands(env), "netbench"), "10")
	if !strings.Contains(out, " 0 errors") {
		t.Fatalf("second run: %q", out)
	}
}
