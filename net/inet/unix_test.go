package inet

import (
	"crypto/sha256"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"gomenuos/fs"
	"gomenuos/net/clock"
	"gomenuos/net/tcp"
	"gomenuos/sched"
)

// TestSocketPairStream: a megabyte written at one end of a pair arrives
// intact at the other through the blocking calls (the writer sleeps for
// room), then the writer's close reads as the end.
func TestSocketPairStream(t *testing.T) {
	n := pairNet()
	a, b, err := n.SocketPair(AFUnix, SockStream, 0)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "family", a.Family(), AFUnix)
	eq(t, "type", b.Type(), SockStream)
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i ^ i>>11)
	}
	go func() {
		w := sched.NewTask("writer")
		if n, err := a.Send(w, data); n != len(data) || err != nil {
			t.Errorf("Send = %d, %v", n, err)
		}
		_ = a.Close(w)
	}()
	r := sched.NewTask("reader")
	var got []byte
	buf := make([]byte, 3000)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		k, err := b.Recv(r, buf)
		if err != nil || k == 0 {
			break
		}
		got = append(got, buf[:k]...)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("read %d bytes, hash differs", len(got))
	}
	if _, err := b.Send(r, []byte("x")); Errno(err) != syscall.EPIPE {
		t.Fatalf("write to a closed peer: %v, want EPIPE", err)
	}
}

// TestSocketPairCalls: MSG_WAITALL, MSG_PEEK, MSG_DONTWAIT, poll, the
// calls a pair refuses, and the socketpair families and types.
func TestSocketPairCalls(t *testing.T) {
	n := pairNet()
	a, b, err := n.SocketPair(AFUnix, SockStream, 0)
	if err != nil {
		t.Fatal(err)
	}
	task := sched.NewTask("t")
	buf := make([]byte, 8)
	if _, _, err := b.RecvMsg(task, buf, MsgDontWait); Errno(err) != syscall.EAGAIN {
		t.Fatalf("MSG_DONTWAIT on empty: %v", err)
	}
	done := make(chan string, 1)
	go func() {
		k, _, err := b.RecvMsg(task, buf, MsgWaitAll)
		done <- string(buf[:k]) + " " + Errno(err).Error()
	}()
	for _, part := range []string{"abc", "defgh"} {
		time.Sleep(5 * time.Millisecond)
		if _, err := a.SendMsg(task, []byte(part), netip.AddrPort{}, 0); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case got := <-done:
		if got != "abcdefgh errno 0" {
			t.Fatalf("MSG_WAITALL read %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("MSG_WAITALL never returned")
	}
	if _, err := a.Send(task, []byte("peek")); err != nil {
		t.Fatal(err)
	}
	if k, _ := b.Peek(task, buf); string(buf[:k]) != "peek" {
		t.Fatalf("peek %q", buf[:k])
	}
	if b.Poll()&fs.PollIn == 0 || a.Poll()&fs.PollOut == 0 {
		t.Fatalf("polls %#x %#x", a.Poll(), b.Poll())
	}
	if err := a.Listen(1); Errno(err) != syscall.EINVAL {
		t.Fatalf("listen: %v", err)
	}
	if _, err := a.Accept(task); Errno(err) != syscall.EINVAL {
		t.Fatalf("accept: %v", err)
	}
	for _, c := range []struct {
		family, typ, proto int
		want               syscall.Errno
	}{
		{AFInet, SockStream, 0, syscall.EOPNOTSUPP},
		{10, SockStream, 0, syscall.EAFNOSUPPORT},
		{AFUnix, SockDgram, 0, syscall.ESOCKTNOSUPPORT},
		{AFUnix, SockStream, 6, syscall.EPROTONOSUPPORT},
	} {
		if _, _, err := n.SocketPair(c.family, c.typ, c.proto); Errno(err) != c.want {
			t.Errorf("socketpair(%d, %d, %d): %v, want %v", c.family, c.typ, c.proto, err, c.want)
		}
	}
	if _, err := a.SendMsg(task, []byte("x"), netip.MustParseAddrPort("127.0.0.1:1"), 0); Errno(err) != syscall.EISCONN {
		t.Fatalf("sendto with an address: %v, want EISCONN", err)
	}
}

// pairNet is a socket layer without IPv4: pairs need none.
func pairNet() *Net { return New(nil, clock.Real(), tcp.DefaultConfig()) }
