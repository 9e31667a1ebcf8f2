package inet

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"gomenuos/fs"
	"gomenuos/fs/sockfs"
	"gomenuos/net/clock"
	"gomenuos/net/link"
	"gomenuos/net/stack"
	"gomenuos/net/tcp"
	"gomenuos/sched"
)

func dgramSocket(t *testing.T, n *Net) *Socket {
	t.Helper()
	s, err := n.Socket(AFInet, SockDgram, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loopbackNet is a socket layer on a stack with only lo.
func loopbackNet(t *testing.T) *Net {
	t.Helper()
	st := stack.New(stack.Options{})
	lo := link.NewLoopback()
	t.Cleanup(lo.Close)
	if _, err := st.AddInterface(lo, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		t.Fatal(err)
	}
	return NewNet(st, clock.Real(), tcp.DefaultConfig())
}

// recvResult is what a RecvMsg on another goroutine returned.
type recvResult struct {
	n    int
	from netip.AddrPort
	err  error
	data string
}

// recvAsync starts a blocking RecvMsg and returns its result channel.
func recvAsync(s *Socket, task *sched.Task, size, flags int) <-chan recvResult {
	ch := make(chan recvResult, 1)
	go func() {
		b := make([]byte, size)
		n, from, err := s.RecvMsg(task, b, flags)
		ch <- recvResult{n, from, err, string(b[:min(n, size)])}
	}()
	return ch
}

func await(t *testing.T, ch <-chan recvResult) recvResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("RecvMsg did not return")
	}
	return recvResult{}
}

// TestDgramSocketCalls drives a datagram socket through the calls the
// system-call layer makes: bind, sendto/recvfrom with addresses, a
// blocking receive woken by arrival, connect and write/read, getsockname
// and getpeername, and the stream-only calls' EOPNOTSUPP.
func TestDgramSocketCalls(t *testing.T) {
	na, nb := twoStacks(t, link.Impairment{})
	task := sched.NewTask("udp")
	srv, c := dgramSocket(t, nb), dgramSocket(t, na)
	eq(t, "Type", srv.Type(), SockDgram)
	if srv.Sock() != nil {
		t.Fatal("a datagram socket has a TCP sock")
	}
	if err := srv.Bind(netip.MustParseAddrPort("0.0.0.0:5353")); err != nil {
		t.Fatal(err)
	}
	pending := recvAsync(srv, task, 64, 0)
	if n, err := c.SendMsg(task, []byte("query"), netip.AddrPortFrom(ipB, 5353), 0); n != 5 || err != nil {
		t.Fatalf("SendMsg = %d, %v", n, err)
	}
	r := await(t, pending)
	local := c.GetSockName()
	if r.data != "query" || r.n != 5 || r.err != nil || r.from != netip.AddrPortFrom(ipA, local.Port()) {
		t.Fatalf("server got %+v; client is %v", r, local)
	}
	if _, err := c.GetPeerName(); Errno(err) != syscall.ENOTCONN {
		t.Fatalf("GetPeerName unconnected: %v", err)
	}
	if _, err := c.Send(task, []byte("x")); Errno(err) != syscall.EDESTADDRREQ {
		t.Fatalf("write unconnected: %v, want EDESTADDRREQ", err)
	}
	if err := c.Connect(task, netip.AddrPortFrom(ipB, 5353)); err != nil {
		t.Fatal(err)
	}
	if peer, err := c.GetPeerName(); peer != netip.AddrPortFrom(ipB, 5353) || err != nil {
		t.Fatalf("GetPeerName = %v, %v", peer, err)
	}
	if got := c.GetSockName(); got != netip.AddrPortFrom(ipA, local.Port()) {
		t.Fatalf("GetSockName after connect = %v", got)
	}
	pending = recvAsync(c, task, 64, 0)
	if _, err := c.Send(task, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 64)
	n, from, err := srv.RecvMsg(task, b, 0)
	if string(b[:n]) != "ping" || err != nil {
		t.Fatalf("server got %q, %v", b[:n], err)
	}
	if _, err := srv.SendMsg(task, []byte("pong"), from, 0); err != nil {
		t.Fatal(err)
	}
	if r := await(t, pending); r.data != "pong" || r.from != netip.AddrPortFrom(ipB, 5353) {
		t.Fatalf("client got %+v", r)
	}
	if err := srv.Listen(5); Errno(err) != syscall.EOPNOTSUPP {
		t.Fatalf("Listen: %v", err)
	}
	if _, err := srv.Accept(task); Errno(err) != syscall.EOPNOTSUPP {
		t.Fatalf("Accept: %v", err)
	}
	if _, err := srv.AcceptFlags(task, true); Errno(err) != syscall.EOPNOTSUPP {
		t.Fatalf("AcceptFlags: %v", err)
	}
	if err := srv.SetSockOptString(SolTCP, TCPCongestion, "reno"); Errno(err) != syscall.ENOPROTOOPT {
		t.Fatalf("TCP_CONGESTION on UDP: %v", err)
	}
	_ = c.Close(task)
	_ = srv.Close(task)
}

// TestDgramNonblockingAndTimeouts: O_NONBLOCK and MSG_DONTWAIT give EAGAIN
// at once, SO_RCVTIMEO after the timeout; an interrupt ends a wait with
// ERESTARTSYS; SHUT_RD wakes a sleeper, which reads 0.
func TestDgramNonblockingAndTimeouts(t *testing.T) {
	n := loopbackNet(t)
	task := sched.NewTask("udp")
	s := dgramSocket(t, n)
	if err := s.Bind(netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	if _, _, err := s.RecvMsg(task, b, MsgDontWait); Errno(err) != syscall.EAGAIN {
		t.Fatalf("MSG_DONTWAIT: %v", err)
	}
	s.SetNonblock(true)
	if _, _, err := s.RecvMsg(task, b, 0); Errno(err) != syscall.EAGAIN {
		t.Fatalf("O_NONBLOCK: %v", err)
	}
	s.SetNonblock(false)
	if err := s.SetTimeout(SoRcvTimeo, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, _, err := s.RecvMsg(task, b, 0); Errno(err) != syscall.EAGAIN || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("SO_RCVTIMEO: %v after %v", err, time.Since(start))
	}
	_ = s.SetTimeout(SoRcvTimeo, 0)
	it := sched.NewTask("interrupted")
	pending := recvAsync(s, it, 8, 0)
	time.Sleep(10 * time.Millisecond)
	it.Interrupt()
	if r := await(t, pending); r.err != sched.ErrRestartSys {
		t.Fatalf("interrupted RecvMsg: %v", r.err)
	}
	pending = recvAsync(s, task, 8, 0)
	time.Sleep(10 * time.Millisecond)
	if err := s.Shutdown(0); Errno(err) != syscall.ENOTCONN {
		t.Fatalf("SHUT_RD unconnected: %v, want ENOTCONN (and shut down all the same)", err)
	}
	if r := await(t, pending); r.n != 0 || r.err != nil {
		t.Fatalf("RecvMsg after SHUT_RD: %d, %v", r.n, r.err)
	}
}

// TestDgramRefusedOverLoopback: a connected socket's datagram to a port
// nobody has on lo draws ICMP port unreachable, which wakes a blocked
// receive with ECONNREFUSED; the counters say what happened.
func TestDgramRefusedOverLoopback(t *testing.T) {
	n := loopbackNet(t)
	task := sched.NewTask("udp")
	c := dgramSocket(t, n)
	if err := c.Connect(task, netip.MustParseAddrPort("127.0.0.1:9")); err != nil {
		t.Fatal(err)
	}
	pending := recvAsync(c, task, 8, 0)
	if _, err := c.Send(task, []byte("anyone?")); err != nil {
		t.Fatal(err)
	}
	if r := await(t, pending); Errno(r.err) != syscall.ECONNREFUSED {
		t.Fatalf("RecvMsg: %+v, want ECONNREFUSED", r)
	}
	if v, _ := c.GetSockOpt(SolSocket, SoError); v != 0 {
		t.Fatalf("SO_ERROR after the error was reported: %d", v)
	}
	if _, err := c.Send(task, []byte("again")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Poll()&fs.PollErr == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if v, _ := c.GetSockOpt(SolSocket, SoError); v != int(syscall.ECONNREFUSED) {
		t.Fatalf("SO_ERROR = %d, want ECONNREFUSED", v)
	}
	m := &n.UDP().MIB
	eq(t, "NoPorts", m.NoPorts.Load(), 2)
	eq(t, "OutDatagrams", m.OutDatagrams.Load(), 2)
}

// TestDgramTruncAndPeek: recvmsg's MSG_TRUNC report and flag through the
// socket layer, and MSG_PEEK.
func TestDgramTruncAndPeek(t *testing.T) {
	n := loopbackNet(t)
	task := sched.NewTask("udp")
	srv, c := dgramSocket(t, n), dgramSocket(t, n)
	if err := srv.Bind(netip.MustParseAddrPort("127.0.0.1:7777")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMsg(task, []byte("0123456789"), srv.GetSockName(), 0); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	k, from, mf, err := srv.RecvMsgFlags(task, b, MsgPeek|MsgTrunc)
	want := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), c.GetSockName().Port())
	if k != 10 || mf != MsgTrunc || err != nil || string(b) != "0123" || from != want {
		t.Fatalf("peek: %d %q flags %#x from %v, %v", k, b, mf, from, err)
	}
	k, _, mf, err = srv.RecvMsgFlags(task, make([]byte, 64), 0)
	if k != 10 || mf != 0 || err != nil {
		t.Fatalf("read: %d flags %#x, %v", k, mf, err)
	}
	if c.GetSockName().Addr() != netip.MustParseAddr("0.0.0.0") {
		t.Fatalf("sendto autobinds the wildcard: %v", c.GetSockName())
	}
}

// TestDgramSockfs: a datagram socket's descriptor reads and writes
// datagrams, /proc/net/udp's inode column is the socket's inode, and the
// last close frees the port.
func TestDgramSockfs(t *testing.T) {
	n := loopbackNet(t)
	task := sched.NewTask("fds")
	srv := dgramSocket(t, n)
	addr := netip.MustParseAddrPort("127.0.0.1:6000")
	if err := srv.Bind(addr); err != nil {
		t.Fatal(err)
	}
	fd, err := srv.MapFd(task, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := dgramSocket(t, n)
	if err := c.Connect(task, addr); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(task, []byte("via write")); err != nil {
		t.Fatal(err)
	}
	_, f, err := sockfs.SockfdLookup(task, fd)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 32)
	k, err := f.Read(task, b)
	if string(b[:k]) != "via write" || err != nil {
		t.Fatalf("read(2) on the descriptor: %q, %v", b[:k], err)
	}
	var proc bytes.Buffer
	n.UDP().WriteProcNetUDP(&proc)
	row := fmt.Sprintf("0100007F:1770 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 %d 2", srv.Ino())
	if !strings.Contains(proc.String(), row) {
		t.Fatalf("/proc/net/udp lacks %q:\n%s", row, proc.String())
	}
	if err := fs.FilesOf(task).Close(fd); err != nil {
		t.Fatal(err)
	}
	f.Put()
	again := dgramSocket(t, n)
	if err := again.Bind(addr); err != nil {
		t.Fatalf("bind after the last close: %v", err)
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}
