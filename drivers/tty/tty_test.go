package tty

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"gomenuos/sched"
)

// screen is the UART seen from the test: everything the tty wrote.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
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

func newTTY() (*TTY, *screen) {
	s := &screen{}
	return New(s), s
}

// readLine reads one line, failing the test if none is ready.
func readLine(t *testing.T, tt *TTY) (string, error) {
	t.Helper()
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := tt.ReadLine(nil)
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(2 * time.Second):
		t.Fatal("ReadLine did not return")
		return "", nil
	}
}

func TestLineEditing(t *testing.T) {
	for _, tc := range []struct {
		name, in, line, echo string
	}{
		{"plain", "help\r", "help", "help\r\n"},
		{"LF", "help\n", "help", "help\r\n"},
		{"CRLF is one newline", "help\r\n", "help", "help\r\n"},
		{"DEL erases", "helq\x7fp\r", "help", "helq\b \bp\r\n"},
		{"BS erases", "hx\x08elp\n", "help", "hx\b \belp\r\n"},
		{"erase at empty line is silent", "\x7f\x7fok\n", "ok", "ok\r\n"},
		{"Ctrl-U kills the line", "abc\x15ok\n", "ok", "abc\b \b\b \b\b \bok\r\n"},
		{"tab without a completer does nothing", "a\tb\n", "ab", "ab\r\n"},
		{"Ctrl-D and other controls ignored", "\x04\x00ok\x07\x1a\n", "ok", "ok\r\n"},
		{"unknown escape sequences swallowed", "\x1b[1;5Cok\x1b[Z\x1bx\n", "ok", "ok\r\n"},
		{"UTF-8 kept, erased whole", "é\x7fü\n", "ü", "é\b \bü\r\n"},
		{"invalid UTF-8 dropped", "a\xff\xc3b\n", "ab", "ab\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt, s := newTTY()
			tt.Input([]byte(tc.in))
			got, err := readLine(t, tt)
			if err != nil || got != tc.line {
				t.Errorf("ReadLine = %q, %v; want %q", got, err, tc.line)
			}
			if s.String() != tc.echo {
				t.Errorf("echo = %q; want %q", s.String(), tc.echo)
			}
		})
	}
}

func TestLinesQueueInOrder(t *testing.T) {
	tt, _ := newTTY()
	tt.Input([]byte("one\ntwo\n\nthree"))
	for _, want := range []string{"one", "two", ""} {
		if got, err := readLine(t, tt); got != want || err != nil {
			t.Errorf("ReadLine = %q, %v; want %q", got, err, want)
		}
	}
	tt.Input([]byte("\n"))
	if got, _ := readLine(t, tt); got != "three" {
		t.Errorf("line split across Inputs = %q", got)
	}
}

func TestOverlongLine(t *testing.T) {
	tt, s := newTTY()
	tt.Input([]byte(strings.Repeat("x", 10000) + "\n"))
	got, err := readLine(t, tt)
	if !errors.Is(err, ErrLineTooLong) || got != strings.Repeat("x", MaxLine) {
		t.Errorf("ReadLine = %d bytes, %v; want %d bytes, ErrLineTooLong", len(got), err, MaxLine)
	}
	if want := strings.Repeat("x", MaxLine) + "\r\n"; s.String() != want {
		t.Errorf("echo = %d bytes; want the first %d characters and a newline", len(s.String()), MaxLine)
	}
	tt.Input([]byte("ok\n"))
	if got, err := readLine(t, tt); got != "ok" || err != nil {
		t.Errorf("line after the overlong one = %q, %v", got, err)
	}
}

func TestCtrlCAtPromptCancelsLine(t *testing.T) {
	tt, s := newTTY()
	tt.Input([]byte("hel\x03"))
	if _, err := readLine(t, tt); !errors.Is(err, ErrCanceled) {
		t.Fatalf("ReadLine after ^C: %v; want ErrCanceled", err)
	}
	tt.Input([]byte("ok\n"))
	if got, _ := readLine(t, tt); got != "ok" {
		t.Errorf("next line = %q", got)
	}
	if want := "hel^C\r\nok\r\n"; s.String() != want {
		t.Errorf("screen = %q; want %q", s.String(), want)
	}
}

func TestCtrlCInterruptsForeground(t *testing.T) {
	tt, s := newTTY()
	task := sched.NewTask("sleep")
	tt.SetForeground(task.Interrupt)
	tt.Input([]byte("typeahead\nhal\x03"))
	if !task.Interrupted() {
		t.Fatal("^C did not interrupt the foreground task")
	}
	tt.SetForeground(nil)
	tt.Input([]byte("next\n"))
	// ^C flushed the type-ahead (never echoed: nobody was reading) and
	// queued no canceled marker, as the command got the interrupt.
	if got, err := readLine(t, tt); got != "next" || err != nil {
		t.Errorf("ReadLine = %q, %v; want \"next\"", got, err)
	}
	if want := "^C\r\nnext\r\n"; s.String() != want {
		t.Errorf("screen = %q; want %q", s.String(), want)
	}
}

func TestTypeAheadEchoedWhenRead(t *testing.T) {
	tt, s := newTTY()
	tt.Input([]byte("help\nquit\n"))
	tt.Write([]byte("MenuOS>>"))
	readLine(t, tt)
	tt.Write([]byte("help text\nMenuOS>>"))
	readLine(t, tt)
	if want := "MenuOS>>help\r\nhelp text\r\nMenuOS>>quit\r\n"; s.String() != want {
		t.Errorf("screen = %q; want %q", s.String(), want)
	}
}

func TestReadLineInterruptible(t *testing.T) {
	tt, _ := newTTY()
	task := sched.NewTask("shell")
	done := make(chan error, 1)
	go func() {
		_, err := tt.ReadLine(task)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	task.Interrupt()
	select {
	case err := <-done:
		if !errors.Is(err, sched.ErrRestartSys) {
			t.Errorf("ReadLine = %v; want ErrRestartSys", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Interrupt did not end ReadLine")
	}
}

func TestReadLineBlocksUntilNewline(t *testing.T) {
	tt, _ := newTTY()
	done := make(chan string, 1)
	go func() {
		s, _ := tt.ReadLine(nil)
		done <- s
	}()
	tt.Input([]byte("ver"))
	select {
	case s := <-done:
		t.Fatalf("ReadLine returned %q before the newline", s)
	case <-time.After(20 * time.Millisecond):
	}
	tt.Input([]byte("sion\r"))
	select {
	case s := <-done:
		if s != "version" {
			t.Errorf("ReadLine = %q", s)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ReadLine did not wake on the newline")
	}
}

func TestWriteTranslatesNewlines(t *testing.T) {
	tt, s := newTTY()
	tt.Write([]byte("a\nb\n"))
	if s.String() != "a\r\nb\r\n" {
		t.Errorf("screen = %q", s.String())
	}
}

func TestBackgroundOutputRedrawsPrompt(t *testing.T) {
	tt, s := newTTY()
	tt.Write([]byte("MenuOS>>"))
	got := make(chan string, 1)
	go func() {
		l, _ := tt.ReadLine(nil)
		got <- l
	}()
	tt.Input([]byte("hel"))
	for deadline := time.Now().Add(2 * time.Second); s.String() != "MenuOS>>hel"; {
		if time.Now().After(deadline) {
			t.Fatalf("screen = %q; want the echo of hel", s.String())
		}
		time.Sleep(time.Millisecond)
	}
	tt.Background().Write([]byte("[1] done\n"))
	tt.Input([]byte("p\n"))
	if l := <-got; l != "help" {
		t.Errorf("line = %q", l)
	}
	want := "MenuOS>>hel\r\n[1] done\r\nMenuOS>>help\r\n"
	if s.String() != want {
		t.Errorf("screen = %q; want %q", s.String(), want)
	}
}

func TestBackgroundOutputAtLineStart(t *testing.T) {
	tt, s := newTTY()
	tt.Background().Write([]byte("no newline"))
	tt.Background().Write([]byte("x\n"))
	if want := "no newline\r\nx\r\n"; s.String() != want {
		t.Errorf("screen = %q; want %q", s.String(), want)
	}
}

func TestConcurrentWritersDoNotInterleave(t *testing.T) {
	tt, s := newTTY()
	var wg sync.WaitGroup
	line := strings.Repeat("z", 100) + "\n"
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				tt.Write([]byte(line))
			}
		}()
	}
	wg.Wait()
	want := strings.Repeat(strings.Repeat("z", 100)+"\r\n", 400)
	if s.String() != want {
		t.Error("concurrent writes were interleaved")
	}
}

func FuzzInput(f *testing.F) {
	f.Add([]byte("help\r\n"), false)
	f.Add([]byte("\x1b[\x03\xff\xc3\x7f\x15\x04"), true)
	f.Add([]byte("hé\x1b[D\x1b[Dx\x7f\x1b[3~\x0b\x17\x01\x05\x1b[A\x1b[B\x0c\t\r"), false)
	f.Fuzz(func(t *testing.T, in []byte, fg bool) {
		tt, _ := newTTY()
		if fg {
			tt.SetForeground(func() {})
		}
		tt.Input(in)
		tt.mu.Lock()
		defer tt.mu.Unlock()
		for {
			l, done := tt.editLocked()
			if !done {
				break
			}
			if len(l.text) > MaxLine || !utf8.ValidString(l.text) ||
				strings.ContainsFunc(l.text, unicode.IsControl) {
				t.Fatalf("completed line %q: too long, invalid UTF-8 or control characters", l.text)
			}
		}
		if len(tt.cur) > MaxLine || len(tt.raw) != 0 {
			t.Fatalf("line %d bytes, %d raw left", len(tt.cur), len(tt.raw))
		}
		if tt.pos < 0 || tt.pos > len(tt.cur) || !utf8.Valid(tt.cur[:tt.pos]) {
			t.Fatalf("cursor %d in %q is not on a character boundary", tt.pos, tt.cur)
		}
	})
}
