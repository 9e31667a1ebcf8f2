package inet

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gomenuos/net/clock"
	"gomenuos/net/header"
	"gomenuos/net/link"
	"gomenuos/net/stack"
	"gomenuos/net/tcp"
	"gomenuos/sched"
)

var (
	ipA  = netip.MustParseAddr("10.0.0.1")
	ipB  = netip.MustParseAddr("10.0.0.2")
	macA = header.MAC{2, 0, 0, 0, 0, 1}
	macB = header.MAC{2, 0, 0, 0, 0, 2}
)

// twoStacks joins two real stacks with a pipe on the real clock (the
// socket layer blocks, so time must move by itself).
func twoStacks(t *testing.T, imp link.Impairment) (*Net, *Net) {
	t.Helper()
	clk := clock.Real()
	pipe := link.NewPipe(link.PipeConfig{Clock: clk, Seed: 3, MACA: macA, MACB: macB, Impairment: imp})
	sa, sb := stack.New(stack.Options{Clock: clk}), stack.New(stack.Options{Clock: clk})
	if _, err := sa.AddInterface(pipe.A, netip.MustParsePrefix("10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.AddInterface(pipe.B, netip.MustParsePrefix("10.0.0.2/24")); err != nil {
		t.Fatal(err)
	}
	cfg := tcp.DefaultConfig()
	return NewNet(sa, clk, cfg), NewNet(sb, clk, cfg)
}

func mustSocket(t *testing.T, n *Net) *Socket {
	t.Helper()
	s, err := n.Socket(AFInet, SockStream, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func listenOn(t *testing.T, n *Net, addr netip.AddrPort) *Socket {
	t.Helper()
	l := mustSocket(t, n)
	if err := l.SetSockOpt(SolSocket, SoReuseAddr, 1); err != nil {
		t.Fatal(err)
	}
	if err := l.Bind(addr); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(8); err != nil {
		t.Fatal(err)
	}
	return l
}

// echoOnce accepts one connection, echoes until EOF and closes.
func echoOnce(t *testing.T, l *Socket, wg *sync.WaitGroup) {
	defer wg.Done()
	task := sched.NewTask("echo")
	c, err := l.Accept(task)
	if err != nil {
		t.Errorf("Accept: %v", err)
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Recv(task, buf)
		if err != nil || n == 0 {
			break
		}
		if _, err := c.Send(task, buf[:n]); err != nil {
			t.Errorf("echo Send: %v", err)
			break
		}
	}
	_ = c.Close(task)
}

func TestTwoStacksEcho(t *testing.T) {
	na, nb := twoStacks(t, link.Impairment{Delay: time.Millisecond, Loss: 0.01})
	l := listenOn(t, nb, netip.AddrPortFrom(ipB, 7))
	var wg sync.WaitGroup
	wg.Add(1)
	go echoOnce(t, l, &wg)

	task := sched.NewTask("client")
	c := mustSocket(t, na)
	if err := c.Connect(task, netip.AddrPortFrom(ipB, 7)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if peer, _ := c.GetPeerName(); peer != netip.AddrPortFrom(ipB, 7) {
		t.Fatalf("GetPeerName = %v", peer)
	}
	if local := c.GetSockName(); local.Addr() != ipA || local.Port() < 32768 {
		t.Fatalf("GetSockName = %v, want 10.0.0.1:<ephemeral>", local)
	}
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i ^ i>>9)
	}
	var got []byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Recv(task, buf)
			if err != nil || n == 0 {
				return
			}
			got = append(got, buf[:n]...)
		}
	}()
	go func() {
		if n, err := c.Send(task, data); n != len(data) || err != nil {
			t.Errorf("Send = %d, %v", n, err)
		}
		if err := c.Shutdown(tcp.ShutWr); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		var b bytes.Buffer
		na.TCP().WriteProcNetTCP(&b)
		nb.TCP().WriteProcNetTCP(&b)
		t.Fatalf("echo did not finish: got %d bytes\n%s", len(got), b.String())
	}
	wg.Wait()
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("echoed %d bytes, hash differs", len(got))
	}
	_ = c.Close(task)
}

func TestLoopback(t *testing.T) {
	st := stack.New(stack.Options{})
	lo := link.NewLoopback()
	defer lo.Close()
	if _, err := st.AddInterface(lo, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		t.Fatal(err)
	}
	n := NewNet(st, clock.Real(), tcp.DefaultConfig())
	lp := netip.MustParseAddrPort("127.0.0.1:8080")
	l := listenOn(t, n, lp)
	var wg sync.WaitGroup
	wg.Add(1)
	go echoOnce(t, l, &wg)
	task := sched.NewTask("client")
	c := mustSocket(t, n)
	if err := c.Connect(task, lp); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	msg := []byte("ping over loopback")
	if _, err := c.Send(task, msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	got := 0
	for got < len(msg) {
		k, err := c.Recv(task, buf[got:])
		if err != nil || k == 0 {
			t.Fatalf("Recv = %d, %v", k, err)
		}
		got += k
	}
	if !bytes.Equal(buf[:got], msg) {
		t.Fatalf("got %q", buf[:got])
	}
	_ = c.Close(task)
	wg.Wait()
	var procBuf bytes.Buffer
	n.TCP().WriteProcNetTCP(&procBuf)
	if !bytes.Contains(procBuf.Bytes(), []byte("0100007F:1F90 00000000:0000 0A")) {
		t.Fatalf("/proc/net/tcp has no listener row for 127.0.0.1:8080:\n%s", procBuf.String())
	}
}

func TestErrorsAndInterrupts(t *testing.T) {
	na, nb := twoStacks(t, link.Impairment{Delay: time.Millisecond})
	task := sched.NewTask("t")
	// Nothing listens on port 9: ECONNREFUSED.
	c := mustSocket(t, na)
	if err := c.Connect(task, netip.AddrPortFrom(ipB, 9)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Connect to closed port: %v, want ECONNREFUSED", err)
	}
	// A second bind of the same port: EADDRINUSE.
	listenOn(t, nb, netip.AddrPortFrom(ipB, 80))
	d := mustSocket(t, nb)
	if err := d.Bind(netip.AddrPortFrom(ipB, 80)); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second Bind: %v, want EADDRINUSE", err)
	}
	// Non-blocking accept: EAGAIN.
	l := listenOn(t, nb, netip.AddrPortFrom(ipB, 81))
	l.SetNonblock(true)
	if _, err := l.Accept(task); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("non-blocking Accept: %v, want EAGAIN", err)
	}
	l.SetNonblock(false)
	// SO_RCVTIMEO: a timed-out accept returns EAGAIN.
	if err := l.SetTimeout(SoRcvTimeo, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Accept(task); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("Accept with SO_RCVTIMEO: %v, want EAGAIN", err)
	}
	_ = l.SetTimeout(SoRcvTimeo, 0)
	// An interrupted accept returns ERESTARTSYS.
	it := sched.NewTask("interrupted")
	go func() { time.Sleep(20 * time.Millisecond); it.Interrupt() }()
	if _, err := l.Accept(it); err != sched.ErrRestartSys {
		t.Fatalf("interrupted Accept: %v, want ErrRestartSys", err)
	}
	// Socket options round-trip.
	if err := c.SetSockOpt(SolTCP, TCPNoDelay, 1); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.GetSockOpt(SolTCP, TCPNoDelay); v != 1 {
		t.Fatalf("TCP_NODELAY = %d", v)
	}
	if err := c.SetSockOpt(SolSocket, SoRcvBuf, 65536); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.GetSockOpt(SolSocket, SoRcvBuf); v != 131072 {
		t.Fatalf("SO_RCVBUF = %d, want doubled 131072", v)
	}
	for _, c := range []struct {
		typ, proto int
		want       syscall.Errno
	}{
		{3, 0, syscall.ESOCKTNOSUPPORT}, // SOCK_RAW
		{SockStream, IPProtoUDP, syscall.EPROTONOSUPPORT},
		{SockDgram, IPProtoTCP, syscall.EPROTONOSUPPORT},
	} {
		if _, err := na.Socket(AFInet, c.typ, c.proto); !errors.Is(err, c.want) {
			t.Fatalf("socket(AF_INET, %d, %d): %v, want %v", c.typ, c.proto, err, c.want)
		}
	}
}

func TestNonblockingConnectAndSOError(t *testing.T) {
	na, nb := twoStacks(t, link.Impairment{Delay: time.Millisecond})
	task := sched.NewTask("t")
	listenOn(t, nb, netip.AddrPortFrom(ipB, 80))
	c := mustSocket(t, na)
	c.SetNonblock(true)
	if err := c.Connect(task, netip.AddrPortFrom(ipB, 80)); Errno(err) != syscall.EINPROGRESS {
		t.Fatalf("non-blocking Connect = %v, want EINPROGRESS", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Poll()&0x004 == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if v, _ := c.GetSockOpt(SolSocket, SoError); v != 0 {
		t.Fatalf("SO_ERROR = %d after a good connect", v)
	}
	r := mustSocket(t, na)
	r.SetNonblock(true)
	_ = r.Connect(task, netip.AddrPortFrom(ipB, 99))
	for r.Poll()&0x008 == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if v, _ := r.GetSockOpt(SolSocket, SoError); syscall.Errno(v) != syscall.ECONNREFUSED {
		t.Fatalf("SO_ERROR = %d, want ECONNREFUSED", v)
	}
	if Errno(sched.ErrRestartSys) != 512 || Errno(tcp.ErrPipe) != syscall.EPIPE {
		t.Fatal("Errno mapping")
	}
}

func TestLingerCloseWaitsForHandshake(t *testing.T) {
	na, nb := twoStacks(t, link.Impairment{Delay: 5 * time.Millisecond})
	l := listenOn(t, nb, netip.AddrPortFrom(ipB, 80))
	var wg sync.WaitGroup
	wg.Add(1)
	go echoOnce(t, l, &wg)
	task := sched.NewTask("t")
	c := mustSocket(t, na)
	if err := c.Connect(task, netip.AddrPortFrom(ipB, 80)); err != nil {
		t.Fatal(err)
	}
	c.SetLinger(true, 5*time.Second)
	start := time.Now()
	if err := c.Close(task); err != nil {
		t.Fatal(err)
	}
	// Close returns once our FIN is acknowledged: at least one round trip
	// of 10 ms, in FIN_WAIT2 or (if the peer's FIN came too) TIME_WAIT.
	if d := time.Since(start); d < 10*time.Millisecond {
		t.Fatalf("lingering close returned after %v", d)
	}
	if st := c.Sock().State(); st != tcp.StateFinWait2 && st != tcp.StateTimeWait {
		t.Fatalf("state after lingering close: %v", st)
	}
	wg.Wait()
}

// TestLoopbackBulk moves 1 MB through the loopback device in 64 KiB
// writes (it found segments overflowing the IPv4 total length).
func TestLoopbackBulk(t *testing.T) {
	st := stack.New(stack.Options{})
	lo := link.NewLoopback()
	defer lo.Close()
	if _, err := st.AddInterface(lo, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		t.Fatal(err)
	}
	n := NewNet(st, clock.Real(), tcp.DefaultConfig())
	addr := netip.MustParseAddrPort("127.0.0.1:6000")
	l := listenOn(t, n, addr)
	got := make(chan []byte, 1)
	go func() {
		task := sched.NewTask("sink")
		c, err := l.Accept(task)
		if err != nil {
			got <- nil
			return
		}
		var all []byte
		buf := make([]byte, 64<<10)
		for {
			k, err := c.Recv(task, buf)
			if err != nil || k == 0 {
				break
			}
			all = append(all, buf[:k]...)
		}
		got <- all
	}()
	task := sched.NewTask("source")
	c := mustSocket(t, n)
	if err := c.Connect(task, addr); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1000003)
	for i := range data {
		data[i] = byte(i * 13)
	}
	for off := 0; off < len(data); off += 64 << 10 {
		if _, err := c.Send(task, data[off:min(off+64<<10, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Shutdown(tcp.ShutWr)
	select {
	case b := <-got:
		if !bytes.Equal(b, data) {
			t.Fatalf("received %d bytes, differ", len(b))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("loopback bulk transfer stalled")
	}
}

// TestAcceptFromAfterPeerReset: a client that sends and resets before the
// server accepts still shows up as its own address in accept's answer,
// while getpeername on the dead connection says ENOTCONN (Linux's
// accept(2) and getpeername(2) agree with this).
func TestAcceptFromAfterPeerReset(t *testing.T) {
	na, nb := twoStacks(t, link.Impairment{})
	task := sched.NewTask("t")
	l := listenOn(t, na, netip.AddrPortFrom(ipA, 5001))
	c := mustSocket(t, nb)
	require.NoError(t, c.Connect(task, netip.AddrPortFrom(ipA, 5001)))
	_, err := c.Send(task, []byte("hello"))
	require.NoError(t, err)
	client := c.GetSockName()
	c.SetLinger(true, 0)
	require.NoError(t, c.Close(task)) // RST
	require.Eventually(t, func() bool { return na.TCP().MIB.EstabResets.Load() == 1 },
		5*time.Second, time.Millisecond, "the server never saw the RST")

	conn, peer, err := l.AcceptFrom(task)
	require.NoError(t, err)
	defer conn.Close(task)
	assert.Equal(t, client, peer)
	_, err = conn.GetPeerName()
	assert.ErrorIs(t, err, tcp.ErrNotConnected)
}
