package menu

import (
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gomenuos/drivers/tty"
	"gomenuos/sched"
)

// screen is the UART as the test sees it.
type screen struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// term is a shell running on a real line discipline, typed at by the test.
type term struct {
	t        *testing.T
	tt       *tty.TTY
	scr      *screen
	sh       *Shell
	done     chan error
	powerOff atomic.Int32
}

var testClock = time.Date(2026, time.November, 22, 2, 53, 48, 0, time.UTC)

func newTerm(t *testing.T, extra ...Command) *term {
	t.Helper()
	m := &term{t: t, scr: &screen{}, done: make(chan error, 1)}
	m.tt = tty.New(m.scr)
	m.sh = New(m.tt, func() { m.powerOff.Add(1) }, func() time.Time { return testClock })
	for _, c := range extra {
		if err := m.sh.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	go func() { m.done <- m.sh.Run(sched.NewTask("shell")) }()
	m.waitFor(Prompt)
	return m
}

// crlf turns a transcript written with \n into the bytes the tty emits.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// bannerText is the banner as printed, before the first prompt.
func bannerText() string { return strings.Join(banner[:], "\n") + "\n" }

func (m *term) typ(s string) { m.tt.Input([]byte(s)) }

// waitFor waits until the screen ends with want (CRLF-translated).
func (m *term) waitFor(want string) {
	m.t.Helper()
	want = crlf(want)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		if strings.HasSuffix(m.scr.String(), want) {
			return
		}
		time.Sleep(time.Millisecond)
	}
	m.t.Fatalf("screen does not end with %q:\n%q", want, tail(m.scr.String()))
}

// session checks the exact screen after the banner.
func (m *term) session(want string) {
	m.t.Helper()
	m.waitFor(want)
	if got := strings.TrimPrefix(m.scr.String(), crlf(bannerText())); got != crlf(want) {
		m.t.Errorf("transcript:\n%s\nwant:\n%s", got, crlf(want))
	}
}

func tail(s string) string {
	if len(s) > 400 {
		return s[len(s)-400:]
	}
	return s
}

func TestBannerAndPrompt(t *testing.T) {
	m := newTerm(t)
	if got, want := m.scr.String(), crlf(bannerText()+"MenuOS>>"); got != want {
		t.Errorf("boot screen:\n%q\nwant\n%q", got, want)
	}
	for i, l := range banner {
		if len(l) != 60 {
			t.Errorf("banner line %d is %d characters; want 60", i, len(l))
		}
	}
}

func TestHelp(t *testing.T) {
	m := newTerm(t)
	m.typ("help\r")
	m.session("MenuOS>>help\n" +
		"help - Menu List:\n" +
		"version - Show the gomenuos and Go versions\n" +
		"quit - Quit from MenuOS (power off)\n" +
		"time - Show the time: year:month(0-11):day:hour:min:sec\n" +
		"jobs - List background jobs (start one with CMD &)\n" +
		"kill - Interrupt background job N\n" +
		"sleep - Sleep N seconds (Ctrl-C interrupts)\n" +
		"MenuOS>>")
}

func TestVersion(t *testing.T) {
	m := newTerm(t)
	m.typ("version\n")
	m.session("MenuOS>>version\n" + VersionLine() + "\nMenuOS>>")
	if !strings.HasPrefix(VersionLine(), "gomenuos 0.1 (Go go1.") {
		t.Errorf("VersionLine = %q", VersionLine())
	}
}

func TestWrongCmdAndEmptyLine(t *testing.T) {
	m := newTerm(t)
	m.typ("foo bar\n\n   \n")
	m.session("MenuOS>>foo bar\nThis is a wrong cmd!\nMenuOS>>\nMenuOS>>   \nMenuOS>>")
}

func TestTime(t *testing.T) {
	m := newTerm(t)
	m.typ("time\n")
	m.session("MenuOS>>time\ntime:2026:10:22:2:53:48\nMenuOS>>")
}

func TestQuitPowersOff(t *testing.T) {
	m := newTerm(t)
	m.typ("quit\n")
	select {
	case err := <-m.done:
		if err != nil {
			t.Errorf("Run = %v; want nil after quit", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after quit")
	}
	if m.powerOff.Load() != 1 {
		t.Errorf("power-off hook called %d times; want 1", m.powerOff.Load())
	}
	if got := m.scr.String(); !strings.HasSuffix(got, crlf("MenuOS>>quit\n")) {
		t.Errorf("screen ends %q", tail(got))
	}
}

func TestLineTooLong(t *testing.T) {
	m := newTerm(t)
	m.typ(strings.Repeat("y", 10000) + "\n")
	m.typ("time\n")
	m.session("MenuOS>>" + strings.Repeat("y", tty.MaxLine) + "\n" +
		"line too long (more than 4095 bytes)\n" +
		"MenuOS>>time\ntime:2026:10:22:2:53:48\nMenuOS>>")
}

func TestBinaryGarbage(t *testing.T) {
	m := newTerm(t)
	r := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 2048)
	for i := range garbage {
		garbage[i] = byte(r.Uint32())
	}
	m.typ(string(garbage) + "\x03version\n")
	m.waitFor(VersionLine() + "\nMenuOS>>")
	if !strings.Contains(m.scr.String(), crlf(WrongCmd+"\n")) {
		t.Error("garbage lines were not answered with the wrong-cmd message")
	}
}

func TestCtrlCAtPrompt(t *testing.T) {
	m := newTerm(t)
	m.typ("hel\x03")
	m.waitFor("MenuOS>>hel^C\nMenuOS>>")
	m.typ("\x04time\n")
	m.session("MenuOS>>hel^C\nMenuOS>>time\ntime:2026:10:22:2:53:48\nMenuOS>>")
}

// blocker is a command that waits until its task is interrupted or the
// test releases it, and says when it has started.
type blocker struct {
	started chan struct{}
	release chan struct{}
	wq      sched.WaitQueue
	freed   atomic.Bool
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}, 4), release: make(chan struct{})}
}

func (b *blocker) command(name string) Command {
	return Command{Name: name, Desc: "wait for the test", Run: func(c *Ctx, _ []string) error {
		b.started <- struct{}{}
		err := b.wq.WaitEventInterruptible(c.Task, b.freed.Load)
		if err == nil {
			c.Printf("%s finished\n", name)
		}
		return err
	}}
}

func (b *blocker) free() {
	b.freed.Store(true)
	b.wq.WakeUpAll()
}

func (b *blocker) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-b.started:
	case <-time.After(3 * time.Second):
		t.Fatal("command did not start")
	}
}

func TestCtrlCInterruptsForegroundCommand(t *testing.T) {
	b := newBlocker()
	m := newTerm(t, b.command("block"))
	m.typ("block\n")
	b.waitStarted(t)
	m.typ("\x03")
	m.waitFor("block: interrupted\nMenuOS>>")
	m.typ("time\n")
	m.session("MenuOS>>block\n^C\nblock: interrupted\n" +
		"MenuOS>>time\ntime:2026:10:22:2:53:48\nMenuOS>>")
}

func TestSleepAndCtrlC(t *testing.T) {
	m := newTerm(t)
	m.typ("sleep 10ms\n")
	m.waitFor("MenuOS>>sleep 10ms\nMenuOS>>")
	m.typ("sleep 1000\n")
	time.Sleep(20 * time.Millisecond) // let sleep reach its wait
	m.typ("\x03")
	m.session("MenuOS>>sleep 10ms\nMenuOS>>sleep 1000\n^C\nsleep: interrupted\nMenuOS>>")
}

func TestBackgroundJob(t *testing.T) {
	b := newBlocker()
	m := newTerm(t, b.command("serve"))
	m.typ("serve &\n")
	b.waitStarted(t)
	m.typ("jobs\n")
	m.waitFor("[1] running  serve\nMenuOS>>")
	m.typ("ver")
	m.waitFor("MenuOS>>ver")
	b.free()
	// The job's output and end start on a fresh line; the prompt and the
	// half-typed line are printed again after each.
	m.waitFor("[1] done  serve\nMenuOS>>ver")
	m.typ("sion\n")
	m.session("MenuOS>>serve &\n[1] started\n" +
		"MenuOS>>jobs\n[1] running  serve\n" +
		"MenuOS>>ver\nserve finished\nMenuOS>>ver\n[1] done  serve\nMenuOS>>version\n" +
		VersionLine() + "\nMenuOS>>")
}

func TestKillBackgroundJob(t *testing.T) {
	b := newBlocker()
	m := newTerm(t, b.command("serve"))
	m.typ("serve&\n")
	b.waitStarted(t)
	m.typ("kill 2\n")
	m.waitFor("kill: no such job 2\nMenuOS>>")
	m.typ("kill %1\n")
	m.waitFor("[1] interrupted  serve\nMenuOS>>")
	m.typ("jobs\n")
	m.waitFor("MenuOS>>jobs\nMenuOS>>")
}

func TestSpawnedServer(t *testing.T) {
	b := newBlocker()
	srv := b.command("server")
	m := newTerm(t, Command{Name: "replyhi", Desc: "Reply hi TCP Service", Run: func(c *Ctx, _ []string) error {
		c.Spawn("replyhi-server", func(c *Ctx) error { return srv.Run(c, nil) })
		c.Printf("Please input hello...\n")
		return nil
	}})
	m.typ("replyhi\n")
	b.waitStarted(t)
	m.typ("jobs\n")
	m.session("MenuOS>>replyhi\nPlease input hello...\n" +
		"MenuOS>>jobs\n[1] running  replyhi-server\nMenuOS>>")
}

func TestCommandErrorsAndPanics(t *testing.T) {
	m := newTerm(t,
		Command{Name: "fail", Desc: "x", Run: func(*Ctx, []string) error { return errors.New("bind error") }},
		Command{Name: "boom", Desc: "x", Run: func(*Ctx, []string) error { panic("oops") }},
		Command{Name: "echo", Desc: "x", Run: func(c *Ctx, a []string) error {
			c.Printf("%q\n", a)
			return nil
		}})
	m.typ("fail\nboom\necho 'a b' \"c\" d\n")
	m.session("MenuOS>>fail\nfail: bind error\nMenuOS>>boom\nboom: panic: oops\n" +
		"MenuOS>>echo 'a b' \"c\" d\n[\"a b\" \"c\" \"d\"]\nMenuOS>>")
}

func TestRegister(t *testing.T) {
	sh := New(tty.New(&screen{}), func() {}, time.Now)
	if err := sh.Register(Command{Name: "help", Run: helpCmd}); err == nil {
		t.Error("registering a second help succeeded")
	}
	if err := sh.Register(Command{Name: "x"}); err == nil {
		t.Error("registering a command without Run succeeded")
	}
	sh.Register(Command{Name: "hello", Desc: "Hello TCP Client", Run: helpCmd})
	cmds := sh.Commands()
	if cmds[0].Name != "help" || cmds[len(cmds)-1].Name != "hello" {
		t.Errorf("table order: first %q, last %q", cmds[0].Name, cmds[len(cmds)-1].Name)
	}
}

// FuzzDispatch types arbitrary bytes into a shell (without sleep and
// quit, which would block or end it) and checks it still answers.
func FuzzDispatch(f *testing.F) {
	f.Add([]byte("help\n"))
	f.Add([]byte("jobs &\nkill %x\n\x00\xff'\"\\\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		scr := &screen{}
		tt := tty.New(scr)
		sh := &Shell{con: tt, powerOff: func() {}, clock: func() time.Time { return testClock }}
		for _, c := range builtins() {
			if c.Name != "sleep" && c.Name != "quit" {
				sh.mustRegister(c)
			}
		}
		done := make(chan error, 1)
		task := sched.NewTask("shell")
		go func() { done <- sh.Run(task) }()
		go func() { // a hang in Input fails the wait below instead of the fuzzer
			tt.Input(in)
			tt.Input([]byte("\x03time\n"))
		}()
		// Only the answer: a background job's lines may land between the
		// echoed command and its output.
		want := crlf("time:2026:10:22:2:53:48\n")
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(scr.String(), want); {
			if time.Now().After(deadline) {
				t.Fatalf("shell stopped answering; screen ends %q", tail(scr.String()))
			}
			time.Sleep(100 * time.Microsecond)
		}
		task.Interrupt()
		select {
		case err := <-done:
			if !errors.Is(err, sched.ErrRestartSys) {
				t.Fatalf("Run = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the shell did not stop when interrupted; screen ends %q", tail(scr.String()))
		}
	})
}

func TestTypeAheadDuringCommand(t *testing.T) {
	b := newBlocker()
	m := newTerm(t, b.command("block"))
	m.typ("block\n")
	b.waitStarted(t)
	m.typ("time\n") // typed while block runs: echoed only when the shell reads it
	time.Sleep(10 * time.Millisecond)
	if got := m.scr.String(); !strings.HasSuffix(got, crlf("MenuOS>>block\n")) {
		t.Errorf("type-ahead echoed into the running command's output: %q", tail(got))
	}
	b.free()
	m.session("MenuOS>>block\nblock finished\nMenuOS>>time\ntime:2026:10:22:2:53:48\nMenuOS>>")
}
