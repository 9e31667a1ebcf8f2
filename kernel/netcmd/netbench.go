package netcmd

import (
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"time"

	"gomenuos/kernel/menu"
	"gomenuos/net/inet"
	"gomenuos/sched"
)

// BenchPort is where netbench's quiet echo server listens.
const BenchPort = 5002

// NetbenchCommand returns `netbench N`: N sequential loopback round trips
// (connect, send "hello", receive "hi", close) against a quiet server,
// reporting the rate, errors and heap growth.
func NetbenchCommand(env *Env) menu.Command {
	return menu.Command{Name: "netbench", Desc: "netbench N: N loopback connect/send/recv/close round trips", Run: env.netbench}
}

func (e *Env) netbench(c *menu.Ctx, args []string) error {
	n := 1000
	if len(args) == 1 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v < 1 {
			return fmt.Errorf("netbench: bad count %q", args[0])
		}
		n = v
	}
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), BenchPort)
	l, err := e.Net.Socket(inet.AFInet, inet.SockStream, 0)
	if err != nil {
		return err
	}
	if err := l.SetSockOpt(inet.SolSocket, inet.SoReuseAddr, 1); err != nil {
		return err
	}
	if err := l.Bind(addr); err != nil {
		return fmt.Errorf("netbench: bind: %v", err)
	}
	if err := l.Listen(1024); err != nil {
		return err
	}
	srvTask := sched.NewTask("netbench-server")
	go quietServer(l, srvTask)
	defer func() {
		srvTask.Interrupt()
		l.Close(c.Task)
	}()

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	errs := 0
	start := time.Now()
	buf := make([]byte, 16)
	for i := 0; i < n; i++ {
		if c.Task.Interrupted() {
			return sched.ErrRestartSys
		}
		if !roundTrip(e.Net, c.Task, addr, buf) {
			errs++
		}
	}
	d := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	c.Printf("netbench: %d round trips in %v: %.0f/s, %d errors, heap in use %d KiB -> %d KiB\n",
		n, d.Round(time.Millisecond), float64(n)/d.Seconds(), errs, before.HeapInuse>>10, after.HeapInuse>>10)
	return nil
}

func roundTrip(n *inet.Net, t *sched.Task, addr netip.AddrPort, buf []byte) bool {
	s, err := n.Socket(inet.AFInet, inet.SockStream, 0)
	if err != nil {
		return false
	}
	defer s.Close(t)
	if s.Connect(t, addr) != nil {
		return false
	}
	if _, err := s.Send(t, []byte("hello")); err != nil {
		return false
	}
	k, err := s.Recv(t, buf)
	return err == nil && string(buf[:k]) == "hi"
}

func quietServer(l *inet.Socket, t *sched.Task) {
	buf := make([]byte, 1024)
	for {
		conn, err := l.Accept(t)
		if err != nil {
			return
		}
		if _, err := conn.Recv(t, buf); err == nil {
			conn.Send(t, []byte("hi"))
		}
		conn.Close(t)
	}
}
