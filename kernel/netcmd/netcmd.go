// Package netcmd holds the shell's network commands: MenuOS's replyhi
// server and hello client over the kernel's own TCP/IP stack, plus
// ifconfig, netstat, arp and ping.
package netcmd

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"gomenuos/fs"
	"gomenuos/kernel/menu"
	"gomenuos/net/inet"
	"gomenuos/net/stack"
	"gomenuos/sched"
)

// ReplyhiPort is where MenuOS's replyhi server listens.
const ReplyhiPort = 5001

// Env is what the commands work on.
type Env struct {
	Net        *inet.Net
	Stack      *stack.Stack
	Background io.Writer // console output of the background server
}

// Commands returns the network commands bound to env.
func Commands(env *Env) []menu.Command {
	return []menu.Command{
		{Name: "replyhi", Desc: "Reply hi TCP Service", Run: env.replyhi},
		{Name: "hello", Desc: "Hello TCP Client: hello [HOST [PORT]]", Run: env.hello},
		{Name: "ifconfig", Desc: "Show network interfaces, addresses and counters", Run: env.ifconfig},
		{Name: "netstat", Desc: "Show TCP sockets (/proc/net/tcp, readable)", Run: env.netstat},
		{Name: "arp", Desc: "Show the ARP cache", Run: env.arp},
		{Name: "ping", Desc: "ping HOST [COUNT]: ICMP echo", Run: env.ping},
		NetbenchCommand(env),
	}
}

// replyhi starts MenuOS's server in the background: bind port 5001 (no
// SO_REUSEADDR), listen with backlog 1024, then forever accept, read up to
// 1024 bytes, answer "hi" and close. A second replyhi fails to bind.
// MenuOS binds 127.0.0.1; we bind 0.0.0.0 so that the host can reach the
// server through eth0 (QEMU's forwarded port) as well as over lo.
func (e *Env) replyhi(c *menu.Ctx, _ []string) error {
	s, err := e.Net.Socket(inet.AFInet, inet.SockStream, 0)
	if err != nil {
		return fmt.Errorf("Socket Error,%v", err)
	}
	addr := netip.AddrPortFrom(netip.IPv4Unspecified(), ReplyhiPort)
	if err := s.Bind(addr); err != nil {
		s.Close(c.Task)
		c.Printf("Bind Error,%s\n", ErrText(err))
		return nil
	}
	if err := s.Listen(1024); err != nil {
		s.Close(c.Task)
		c.Printf("Listen Error,%s\n", ErrText(err))
		return nil
	}
	// Like the C server, the listener has a descriptor (Linux: sock_map_fd):
	// it shows in /proc/self/fd as socket:[inode] while the server runs.
	fd, err := s.MapFd(c.Task, 0)
	if err != nil {
		s.Close(c.Task)
		return fmt.Errorf("replyhi: %v", err)
	}
	files := fs.FilesOf(c.Task)
	if c.Shell != nil {
		// A shell job: `jobs` lists it, `kill` stops it and frees the port.
		c.Spawn("replyhi", func(jc *menu.Ctx) error { return e.serve(s, files, fd, jc.Out, jc.Task) })
	} else {
		go e.serve(s, files, fd, e.Background, sched.NewTask("replyhi"))
	}
	c.Printf("Please input hello...\n")
	return nil
}

// serve is the replyhi server loop; out is the console's background
// writer, t the job's task (interrupting it closes the listener's
// descriptor, fd in files, and with it the socket).
func (e *Env) serve(l *inet.Socket, files *fs.FDTable, fd int, out io.Writer, t *sched.Task) error {
	defer files.Close(fd)
	buf := make([]byte, 1024)
	for {
		conn, peer, err := l.AcceptFrom(t)
		if err != nil {
			return err
		}
		n, err := conn.Recv(t, buf)
		if err != nil {
			fmt.Fprintf(out, "replyhi: recv: %v\n", err)
			conn.Close(t)
			continue
		}
		fmt.Fprintf(out, "recv \"%s\" from %s:%d\n", buf[:n], peer.Addr(), peer.Port())
		if _, err := conn.Send(t, []byte("hi")); err != nil {
			fmt.Fprintf(out, "replyhi: send: %v\n", err)
		} else {
			fmt.Fprintf(out, "send \"hi\" to %s:%d\n", peer.Addr(), peer.Port())
		}
		conn.Close(t)
	}
}

// hello is MenuOS's client: connect, send "hello", read the answer, close.
func (e *Env) hello(c *menu.Ctx, args []string) error {
	dst, err := target(args)
	if err != nil {
		return err
	}
	s, err := e.Net.Socket(inet.AFInet, inet.SockStream, 0)
	if err != nil {
		return fmt.Errorf("Socket Error,%v", err)
	}
	defer s.Close(c.Task)
	if err := s.Connect(c.Task, dst); err != nil {
		c.Printf("Connect Error,%s\n", ErrText(err))
		return nil
	}
	if _, err := s.Send(c.Task, []byte("hello")); err != nil {
		c.Printf("Send Error,%s\n", ErrText(err))
		return nil
	}
	c.Printf("send \"hello\" to %s:%d\n", dst.Addr(), dst.Port())
	buf := make([]byte, 1024)
	n, err := s.Recv(c.Task, buf)
	if err != nil {
		c.Printf("Recv Error,%s\n", ErrText(err))
		return nil
	}
	c.Printf("recv \"%s\" from %s:%d\n", buf[:n], dst.Addr(), dst.Port())
	return nil
}

func target(args []string) (netip.AddrPort, error) {
	host, port := "127.0.0.1", ReplyhiPort
	if len(args) > 2 {
		return netip.AddrPort{}, errors.New("usage: hello [HOST [PORT]]")
	}
	if len(args) >= 1 {
		host = args[0]
	}
	if len(args) == 2 {
		p, err := strconv.Atoi(args[1])
		if err != nil || p <= 0 || p > 65535 {
			return netip.AddrPort{}, fmt.Errorf("hello: bad port %q", args[1])
		}
		port = p
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() {
		return netip.AddrPort{}, fmt.Errorf("hello: bad IPv4 address %q", host)
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}

func (e *Env) ifconfig(c *menu.Ctx, _ []string) error {
	c.Printf("%s", e.Stack.IfconfigText())
	return nil
}

func (e *Env) arp(c *menu.Ctx, _ []string) error {
	c.Printf("%s", e.Stack.ARPText())
	return nil
}

var tcpStates = [...]string{"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"}

// netstat prints the TCP table like net-tools' netstat -tan, from the same
// rows as /proc/net/tcp.
func (e *Env) netstat(c *menu.Ctx, _ []string) error {
	var b lineBuffer
	e.Net.TCP().WriteProcNetTCP(&b)
	c.Printf("Proto Recv-Q Send-Q Local Address          Foreign Address        State\n")
	for i, line := range b.lines() {
		if i == 0 {
			continue // the /proc header
		}
		var sl, local, remote, st, queues string
		fmt.Sscanf(line, "%s %s %s %s %s", &sl, &local, &remote, &st, &queues)
		state, _ := strconv.ParseUint(st, 16, 8)
		name := "?"
		if int(state) < len(tcpStates) {
			name = tcpStates[state]
		}
		var tx, rx uint64
		fmt.Sscanf(queues, "%x:%x", &tx, &rx)
		c.Printf("tcp   %6d %6d %-22s %-22s %s\n", rx, tx, procAddr(local), procAddr(remote), name)
	}
	return nil
}

// procAddr turns /proc/net/tcp's "0100007F:1389" into "127.0.0.1:5001".
func procAddr(s string) string {
	var ip uint32
	var port uint16
	if _, err := fmt.Sscanf(s, "%8X:%4X", &ip, &port); err != nil {
		return s
	}
	return fmt.Sprintf("%d.%d.%d.%d:%d", byte(ip), byte(ip>>8), byte(ip>>16), byte(ip>>24), port)
}

type lineBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lineBuffer) lines() []string {
	var out []string
	start := 0
	for i, c := range b.buf {
		if c == '\n' {
			out = append(out, string(b.buf[start:i]))
			start = i + 1
		}
	}
	return out
}

// ping sends ICMP echo requests once a second (Linux's ping output format).
func (e *Env) ping(c *menu.Ctx, args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return errors.New("usage: ping HOST [COUNT]")
	}
	dst, err := netip.ParseAddr(args[0])
	if err != nil || !dst.Is4() {
		return fmt.Errorf("ping: %s: bad IPv4 address", args[0])
	}
	count := 4
	if len(args) == 2 {
		if count, err = strconv.Atoi(args[1]); err != nil || count < 1 {
			return fmt.Errorf("ping: bad count %q", args[1])
		}
	}
	payload := make([]byte, 56)
	c.Printf("PING %s %d(%d) bytes of data.\n", dst, len(payload), len(payload)+28)
	got := 0
	for seq := 1; seq <= count; seq++ {
		if c.Task.Interrupted() {
			return sched.ErrRestartSys
		}
		r, err := e.Stack.Ping(dst, 0x4d4f, uint16(seq), payload, time.Second)
		if err != nil {
			c.Printf("From %s icmp_seq=%d %v\n", dst, seq, err)
		} else {
			got++
			c.Printf("%d bytes from %s: icmp_seq=%d ttl=%d time=%.3f ms\n",
				len(r.Payload)+8, r.From, r.Seq, r.TTL, float64(r.RTT.Microseconds())/1000)
		}
		if seq < count {
			time.Sleep(time.Second)
		}
	}
	c.Printf("%d packets transmitted, %d received\n", count, got)
	return nil
}

// linuxText is strerror with the wording of Linux's C library for the
// errors the lab commands meet, so the Go shell and the C MenuOS
// (user/menu) print the same lines.
var linuxText = map[syscall.Errno]string{
	syscall.EADDRINUSE:    "Address already in use",
	syscall.ECONNREFUSED:  "Connection refused",
	syscall.ECONNRESET:    "Connection reset by peer",
	syscall.ETIMEDOUT:     "Connection timed out",
	syscall.ENETUNREACH:   "Network is unreachable",
	syscall.EHOSTUNREACH:  "No route to host",
	syscall.EADDRNOTAVAIL: "Cannot assign requested address",
	syscall.EPIPE:         "Broken pipe",
	syscall.EINTR:         "Interrupted system call",
	syscall.EINVAL:        "Invalid argument",
}

// ErrText is how the lab commands word an error.
func ErrText(err error) string {
	if t, ok := linuxText[inet.Errno(err)]; ok {
		return t
	}
	return err.Error()
}
