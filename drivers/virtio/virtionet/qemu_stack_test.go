package virtionet_test

import (
	"crypto/sha256"
	"io"
	"math/rand"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gomenuos/drivers/virtio/virtionet"
	"gomenuos/net/clock"
	"gomenuos/net/inet"
	"gomenuos/net/link"
	"gomenuos/net/stack"
	"gomenuos/net/tcp"
	"gomenuos/sched"
)

// ourStack puts gomenuos' IPv4/TCP stack on dev as 10.0.3.2/24.
func ourStack(t testing.TB, dev link.Device) *inet.Net {
	return ourStackAt(t, dev, "10.0.3.2/24")
}

func ourStackAt(t testing.TB, dev link.Device, prefix string) *inet.Net {
	t.Helper()
	st := stack.New(stack.Options{Clock: clock.Real()})
	if _, err := st.AddInterface(dev, netip.MustParsePrefix(prefix)); err != nil {
		t.Fatal(err)
	}
	return inet.NewNet(st, clock.Real(), tcp.DefaultConfig())
}

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// TestQEMUStackEchoesLinuxOverVirtioNet: our TCP stack on the driver on
// QEMU's virtio-net, and Linux on the other side of the tap, exchange
// 10 MB each way byte-exact (Linux connects, our stack echoes).
func TestQEMUStackEchoesLinuxOverVirtioNet(t *testing.T) {
	ns := tapNamespace(t)
	dev := tapNIC(t, ns)
	n := ourStack(t, dev)
	echoServer(t, n, "10.0.3.2:5001")
	var res echoResult
	<-inNamespace(ns, func() { res = linuxEcho("10.0.3.2:5001", randomBytes(10e6, 1)) })
	res.check(t, dev)
}

// echoServer runs an echo server on our stack for one connection.
func echoServer(t testing.TB, n *inet.Net, addr string) {
	t.Helper()
	l, err := n.Socket(inet.AFInet, inet.SockStream, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Bind(netip.MustParseAddrPort(addr)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(4); err != nil {
		t.Fatal(err)
	}
	go func() {
		task := sched.NewTask("echo")
		c, err := l.Accept(task)
		if err != nil {
			return
		}
		buf := make([]byte, 64<<10)
		for {
			k, err := c.Recv(task, buf)
			if err != nil || k == 0 {
				break
			}
			if _, err := c.Send(task, buf[:k]); err != nil {
				break
			}
		}
		c.Close(task)
	}()
}

type echoResult struct {
	sent, got []byte
	elapsed   time.Duration
	err       error
}

// linuxEcho connects with the host's TCP, sends data, half-closes and
// reads everything echoed.
func linuxEcho(addr string, data []byte) (r echoResult) {
	r.sent = data
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		r.err = err
		return r
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	start := time.Now()
	go func() {
		c.Write(data)
		c.(*net.TCPConn).CloseWrite()
	}()
	r.got, r.err = io.ReadAll(c)
	r.elapsed = time.Since(start)
	return r
}

func (r echoResult) check(t *testing.T, dev *virtionet.Device) {
	t.Helper()
	if dev.Stats.RxErrors.Load() != 0 {
		var b strings.Builder
		dev.Stats.WriteTo(&b)
		t.Errorf("driver counters:\n%s", b.String())
	}
	if r.err != nil {
		t.Fatalf("Linux side: %v after %d bytes echoed", r.err, len(r.got))
	}
	if sha256.Sum256(r.got) != sha256.Sum256(r.sent) {
		t.Fatalf("echoed %d of %d bytes, hash differs", len(r.got), len(r.sent))
	}
	t.Logf("%d bytes echoed in %v (%.1f MB/s each way); driver rx errors %d, coalesced %d, tx dropped %d", len(r.sent),
		r.elapsed, float64(len(r.sent))/r.elapsed.Seconds()/1e6, dev.Stats.RxErrors.Load(), dev.Stats.RxGSO.Load(),
		dev.Stats.TxDropped.Load())
}

// TestQEMUStackOverUserNetworking: the make-run setup. A host connection to
// the forwarded port reaches our stack's echo server through slirp.
func TestQEMUStackOverUserNetworking(t *testing.T) {
	dev := qemuNIC(t, 15002)
	echoServer(t, ourStackAt(t, dev, "10.0.2.15/24"), "10.0.2.15:5001")
	linuxEcho("127.0.0.1:15002", randomBytes(10e6, 3)).check(t, dev)
}

// TestQEMUStackConnectsToLinuxOverVirtioNet: our stack connects out to a
// Linux echo server behind the tap and gets 10 MB back byte-exact.
func TestQEMUStackConnectsToLinuxOverVirtioNet(t *testing.T) {
	ns := tapNamespace(t)
	dev := tapNIC(t, ns)
	n := ourStack(t, dev)
	var ln net.Listener
	var err error
	if e := <-inNamespace(ns, func() { ln, err = net.Listen("tcp", "10.0.3.1:6001") }); e != nil || err != nil {
		t.Fatal(e, err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	task := sched.NewTask("client")
	c, err := n.Socket(inet.AFInet, inet.SockStream, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(task, netip.MustParseAddrPort("10.0.3.1:6001")); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	data := randomBytes(10e6, 2)
	got := make(chan []byte)
	go func() {
		var b []byte
		buf := make([]byte, 64<<10)
		rt := sched.NewTask("reader")
		for len(b) < len(data) {
			k, err := c.Recv(rt, buf)
			if err != nil || k == 0 {
				break
			}
			b = append(b, buf[:k]...)
		}
		got <- b
	}()
	start := time.Now()
	if k, err := c.Send(task, data); k != len(data) || err != nil {
		t.Fatalf("Send = %d, %v", k, err)
	}
	var echoed []byte
	select {
	case echoed = <-got:
	case <-time.After(60 * time.Second):
		t.Fatal("echo did not complete")
	}
	elapsed := time.Since(start)
	c.Close(task)
	if sha256.Sum256(echoed) != sha256.Sum256(data) {
		t.Fatalf("got %d of %d bytes back, hash differs", len(echoed), len(data))
	}
	t.Logf("10 MB echoed by Linux in %v (%.1f MB/s each way)", elapsed, float64(len(data))/elapsed.Seconds()/1e6)
}
