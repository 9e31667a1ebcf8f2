package unix

import (
	"strings"
	"syscall"
	"testing"
)

func send(t *testing.T, s *Sock, b string) {
	t.Helper()
	if n, err := s.Sendmsg([]byte(b)); n != len(b) || err != nil {
		t.Fatalf("Sendmsg(%q) = %d, %v", b, n, err)
	}
}

func recv(s *Sock, size int, peek bool) (string, error) {
	b := make([]byte, size)
	n, err := s.Recvmsg(b, peek)
	return string(b[:n]), err
}

func TestPairCarriesBothWays(t *testing.T) {
	a, b := Pair()
	send(t, a, "ping")
	send(t, b, "pong!")
	if got, err := recv(b, 2, true); got != "pi" || err != nil {
		t.Fatalf("peek = %q, %v", got, err)
	}
	if got, _ := recv(b, 64, false); got != "ping" {
		t.Fatalf("b read %q", got)
	}
	if got, _ := recv(a, 64, false); got != "pong!" {
		t.Fatalf("a read %q", got)
	}
	if _, err := recv(a, 64, false); err != ErrWouldBlock {
		t.Fatalf("empty: %v", err)
	}
	if a.Poll() != PollOut {
		t.Fatalf("idle poll %#x", a.Poll())
	}
}

// TestSndBufBoundsTheQueue: what one end wrote and the other has not read
// is at most SO_SNDBUF; POLLOUT comes back once the reader drained it to
// a quarter.
func TestSndBufBoundsTheQueue(t *testing.T) {
	a, b := Pair()
	a.SetSndBuf(0) // the floor: 4608
	if a.SndBuf() != 4608 {
		t.Fatalf("SO_SNDBUF %d", a.SndBuf())
	}
	n, err := a.Sendmsg(make([]byte, 10000))
	if n != 4608 || err != nil {
		t.Fatalf("first write: %d, %v", n, err)
	}
	if n, err := a.Sendmsg([]byte("x")); n != 0 || err != ErrWouldBlock {
		t.Fatalf("full: %d, %v", n, err)
	}
	if a.Poll()&PollOut != 0 || b.Poll()&PollIn == 0 {
		t.Fatalf("polls %#x / %#x", a.Poll(), b.Poll())
	}
	recv(b, 3000, false)
	if a.Poll()&PollOut != 0 {
		t.Fatal("writable with 1,608 of 4,608 bytes unread (Linux waits for a quarter)")
	}
	recv(b, 500, false)
	if a.Poll()&PollOut == 0 {
		t.Fatal("not writable with 1,108 bytes unread")
	}
}

// TestShutdownAndClose: SHUT_WR ends the peer's reading after the data;
// SHUT_RD makes the peer's writes EPIPE; closing makes the peer read the
// end and fail to write, after ECONNRESET if it had written unread data.
func TestShutdownAndClose(t *testing.T) {
	a, b := Pair()
	send(t, a, "last words")
	if err := a.Shutdown(1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sendmsg([]byte("x")); err != ErrPipe {
		t.Fatalf("write after SHUT_WR: %v", err)
	}
	if got, _ := recv(b, 64, false); got != "last words" {
		t.Fatalf("read %q", got)
	}
	if got, err := recv(b, 64, false); got != "" || err != nil {
		t.Fatalf("after the peer's SHUT_WR: %q, %v, want the end", got, err)
	}
	eq(t, "b poll", b.Poll(), PollIn|PollRdHup|PollOut)
	if err := b.Shutdown(0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sendmsg([]byte("x")); err != ErrPipe {
		t.Fatalf("write to a SHUT_RD peer: %v", err)
	}
	if err := a.Shutdown(3); err != syscall.EINVAL {
		t.Fatalf("how 3: %v", err)
	}

	c, d := Pair()
	send(t, c, "never read")
	d.Close()
	eq(t, "poll after the peer closed", c.Poll(), PollIn|PollRdHup|PollHup|PollOut|PollErr)
	if _, err := c.Sendmsg([]byte("x")); err != ErrConnReset {
		t.Fatalf("first write after an unread close: %v, want ECONNRESET", err)
	}
	if _, err := c.Sendmsg([]byte("x")); err != ErrPipe {
		t.Fatalf("second: %v, want EPIPE", err)
	}
	if got, err := recv(c, 8, false); got != "" || err != nil {
		t.Fatalf("read after the peer closed: %q, %v", got, err)
	}
}

func TestEmptyWriteAndRead(t *testing.T) {
	a, b := Pair()
	if n, err := a.Sendmsg(nil); n != 0 || err != nil {
		t.Fatalf("empty write: %d, %v", n, err)
	}
	send(t, a, strings.Repeat("z", 3))
	if n, err := b.Recvmsg(nil, false); n != 0 || err != nil {
		t.Fatalf("empty read: %d, %v", n, err)
	}
	if got, _ := recv(b, 8, false); got != "zzz" {
		t.Fatalf("after an empty read: %q", got)
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// TestBlockedWriterIsReleased: a writer facing a full queue may proceed
// once the reader reads, shuts down reading, or closes.
func TestBlockedWriterIsReleased(t *testing.T) {
	for _, release := range []func(b *Sock){
		func(b *Sock) { recv(b, 10, false) },
		func(b *Sock) { b.Shutdown(0) },
		func(b *Sock) { b.Close() },
	} {
		a, b := Pair()
		a.SetSndBuf(0)
		a.Sendmsg(make([]byte, 5000))
		if a.WriteWouldProceed() {
			t.Fatal("a full queue lets the writer proceed")
		}
		release(b)
		if !a.WriteWouldProceed() {
			t.Fatal("the writer is still blocked")
		}
	}
}
