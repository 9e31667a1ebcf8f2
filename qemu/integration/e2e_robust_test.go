package integration

import (
	"encoding/binary"
	"io"
	"math/rand"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gomenuos/kernel/netcmd"
	"gomenuos/qemu/harness"
)

// sniffer watches the tap and remembers, per guest connection, the last
// acknowledgment number the guest sent: its RCV.NXT.
type sniffer struct {
	p    *packetSock
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex           // guards acks (written by run, read by ack)
	acks map[[2]uint16]uint32 // {guest port, host port} → ack
}

func startSniffer(p *packetSock) *sniffer {
	s := &sniffer{p: p, acks: map[[2]uint16]uint32{}, stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *sniffer) run() {
	defer close(s.done)
	buf := make([]byte, 65536)
	guest := net.ParseIP(nsGuestIP).To4()
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		n, err := s.p.recv(buf)
		if err != nil || n < 54 {
			continue
		}
		f := buf[:n]
		if binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[23] != 6 || !net.IP(f[26:30]).Equal(guest) {
			continue
		}
		t := f[14+int(f[14]&0xf)*4:]
		if len(t) < 20 || t[13]&tcpAck == 0 {
			continue
		}
		key := [2]uint16{binary.BigEndian.Uint16(t[0:]), binary.BigEndian.Uint16(t[2:])}
		s.mu.Lock()
		s.acks[key] = binary.BigEndian.Uint32(t[8:])
		s.mu.Unlock()
	}
}

func (s *sniffer) ack(guestPort, hostPort uint16) (uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.acks[[2]uint16{guestPort, hostPort}]
	return a, ok
}

// settledAck waits until the guest's acknowledgment on a connection stops
// moving (two looks 10 ms apart agree) and returns it: RCV.NXT of an idle
// connection.
func (s *sniffer) settledAck(t *testing.T, guestPort, hostPort uint16) uint32 {
	t.Helper()
	var last uint32
	seen := false
	for deadline := time.Now().Add(cmdTimeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		a, ok := s.ack(guestPort, hostPort)
		if ok && seen && a == last {
			return a
		}
		last, seen = a, ok
	}
	t.Fatalf("the guest's ACKs on port %d never settled", guestPort)
	return 0
}

func (s *sniffer) close() {
	close(s.stop)
	<-s.done
}

// robustGuest boots the guest on a tap in a fresh namespace with replyhi
// running, and opens a packet socket on the tap.
func robustGuest(t *testing.T) (netns, *harness.Machine, *packetSock, net.HardwareAddr) {
	ns := newNetns(t)
	m := ns.start(t, tapArgs(ns))
	if out := run(t, m, "replyhi"); out != "replyhi\r\nPlease input hello...\r\n"+prompt {
		t.Fatalf("replyhi: %q", out)
	}
	var p *packetSock
	if err := ns.Do(func() (err error) { p, err = openPacket(ns.Tap); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	ifc := run(t, m, "ifconfig")
	mac := regexp.MustCompile(`ether ([0-9a-f:]{17})`).FindStringSubmatch(ifc)
	if mac == nil {
		t.Fatalf("no MAC in ifconfig:\n%s", ifc)
	}
	hw, _ := net.ParseMAC(mac[1])
	return ns, m, p, hw
}

// stillResponsive checks the guest answers the host's replyhi exchange,
// its own hello on lo, and pings the host.
func stillResponsive(t *testing.T, ns netns, m *harness.Machine) {
	t.Helper()
	replyhiExchange(t, ns.dialer(nsGuestIP+":5001"))
	m.Send("hello\r")
	if _, err := m.Expect(`recv "hi" from 127.0.0.1:5001`, cmdTimeout); err != nil {
		t.Fatalf("hello on lo: %v", err)
	}
	m.Send("ping " + nsHostIP + " 3\r")
	_, sm, err := m.ExpectRegexp(regexp.MustCompile(`3 packets transmitted, (\d) received`), cmdTimeout)
	if err != nil || sm[1] == "0" {
		t.Fatalf("ping the host: %v %q", err, sm)
	}
}

// Thousands of RSTs at the guest's live connection (random and in-window
// sequence numbers), its listener and closed ports: RFC 5961 §3.2 says
// only an RST at exactly RCV.NXT resets; in-window ones draw challenge
// ACKs. The connection survives and delivers every byte; then one exact
// RST does reset a second connection (the sniffed sequence was right).
func TestQEMUE2ERSTStorm(t *testing.T) {
	ns, m, p, guestMAC := robustGuest(t)
	sn := startSniffer(p)
	defer sn.close()
	host, guest := net.ParseIP(nsHostIP), net.ParseIP(nsGuestIP)
	rst := func(sport, dport uint16, seq uint32, flags byte) {
		seg := tcpSeg(host, guest, sport, dport, seq, 0, flags, 0, nil)
		p.send(ether(guestMAC, p.mac, 0x0800, ipv4(host, guest, 6, 0, 0, seg)))
	}

	m.Send("tcpsink 6000 &\r")
	if _, err := m.Expect("tcpsink: listening on port 6000", cmdTimeout); err != nil {
		t.Fatal(err)
	}
	c, err := ns.dialer(nsGuestIP + ":6000")()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(bulkTimeout))
	const total, first = 1 << 20, 100 << 10
	src := netcmd.NewBulkStream()
	if _, err := io.CopyN(c, src, first); err != nil {
		t.Fatal(err)
	}
	hostPort := uint16(c.LocalAddr().(*net.TCPAddr).Port)
	waitAllAcked(t, c)
	rcvNxt := sn.settledAck(t, 6000, hostPort)

	rstStorm(rst, hostPort, rcvNxt)
	time.Sleep(500 * time.Millisecond)

	if _, err := io.CopyN(c, src, total-first); err != nil {
		t.Fatalf("the connection died in the storm: %v", err)
	}
	c.(*net.TCPConn).CloseWrite()
	_, sm, err := m.ExpectRegexp(receivedRe, bulkTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if want := streamSum(total); sm[1] != strconv.Itoa(total) || sm[2] != want {
		t.Fatalf("after the storm the guest received %s bytes sha256 %s, want %d %s", sm[1], sm[2], total, want)
	}
	if n := tcpExt(t, m, "TCPChallengeACK"); n == 0 {
		t.Error("no challenge ACKs counted: the in-window RSTs never arrived")
	}
	stillResponsive(t, ns, m)

	// Control: an RST at exactly RCV.NXT resets.
	m.Send("tcpsink 6001 &\r")
	if _, err := m.Expect("tcpsink: listening on port 6001", cmdTimeout); err != nil {
		t.Fatal(err)
	}
	c2, err := ns.dialer(nsGuestIP + ":6001")()
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write(make([]byte, 1000))
	port2 := uint16(c2.LocalAddr().(*net.TCPAddr).Port)
	waitAllAcked(t, c2)
	nxt := sn.settledAck(t, 6001, port2)
	rst(port2, 6001, nxt, tcpRst)
	if _, err := m.Expect("exit: tcpsink: after 1000 bytes: ", cmdTimeout); err != nil {
		t.Fatalf("an exact RST did not reset the connection: %v", err)
	}
}

// waitAllAcked waits until the guest has acknowledged everything the
// host wrote on c (Linux's SIOCOUTQ reads 0), so the guest's RCV.NXT no
// longer moves.
func waitAllAcked(t *testing.T, c net.Conn) {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(cmdTimeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var outq int
		var ierr error
		rc.Control(func(fd uintptr) { outq, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) })
		if ierr != nil {
			t.Fatal(ierr)
		}
		if outq == 0 {
			return
		}
	}
	t.Fatal("the guest never acknowledged all the host sent")
}

// rstStorm sends 6,000 RSTs: at the live connection {hostPort → 6000}
// with random and with in-window sequence numbers (never RCV.NXT itself),
// at the listener on 5001 from random ports, and at closed ports.
func rstStorm(rst func(sport, dport uint16, seq uint32, flags byte), hostPort uint16, rcvNxt uint32) {
	rng := rand.New(rand.NewSource(5))
	const storm = 6000
	for i := range storm {
		switch i % 4 {
		case 0: // random sequence number at the live connection
			rst(hostPort, 6000, rng.Uint32(), tcpRst)
		case 1: // in the window but not RCV.NXT: a challenge ACK, no reset
			rst(hostPort, 6000, rcvNxt+1+uint32(rng.Intn(4000)), tcpRst|byte(rng.Intn(2))*tcpAck)
		case 2: // at the listener from random ports
			rst(uint16(1024+rng.Intn(60000)), 5001, rng.Uint32(), tcpRst)
		default: // closed ports
			rst(uint16(1024+rng.Intn(60000)), uint16(1+rng.Intn(65535)), rng.Uint32(), tcpRst|tcpAck)
		}
		if i%500 == 499 {
			time.Sleep(5 * time.Millisecond) // let QEMU keep up (the tap queue holds 1000)
		}
	}
}

// tcpExt reads one TcpExt counter from the guest's /proc/net/netstat.
func tcpExt(t *testing.T, m *harness.Machine, name string) int {
	t.Helper()
	m.Send("cat /proc/net/netstat\r")
	_, sm, err := m.ExpectRegexp(regexp.MustCompile(`TcpExt: ([^\r]*)\r\nTcpExt: ([^\r]*)\r\n`), cmdTimeout)
	if err != nil {
		t.Fatal(err)
	}
	names, values := strings.Fields(sm[1]), strings.Fields(sm[2])
	for i, n := range names {
		if n == name && i < len(values) {
			v, _ := strconv.Atoi(values[i])
			t.Logf("guest TcpExt %s = %d", name, v)
			return v
		}
	}
	t.Fatalf("no TcpExt %s in %q", name, sm[0])
	return 0
}

// flood sends n fuzzed frames within limit, pacing itself by the tap's
// tx_dropped: when QEMU falls behind, the tap's queue (1000 frames)
// overflows and the frames never reach the guest, so it slows down.
func flood(t *testing.T, ns netns, p *packetSock, fz *frameFuzzer, n int, limit time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(limit)
	pause := 2 * time.Millisecond
	lastDrops := tapDrops(t, ns)
	for sent := 0; sent < n; sent++ {
		if time.Now().After(deadline) {
			t.Fatalf("sent only %d frames in %v", sent, limit)
		}
		if err := p.send(fz.next()); err != nil {
			t.Fatalf("frame %d: %v", sent, err)
		}
		if sent%200 == 199 {
			time.Sleep(pause)
		}
		if sent%5000 == 4999 {
			if d := tapDrops(t, ns); d > lastDrops {
				pause, lastDrops = min(2*pause, 100*time.Millisecond), d
			}
		}
	}
	t.Logf("flood: %d frames, tap tx_dropped %d, final pause %v per 200", n, tapDrops(t, ns), pause)
	return n
}

// tapDrops is the tap's tx_dropped: frames for the guest QEMU never took.
func tapDrops(t *testing.T, ns netns) int {
	out, err := exec.Command("ip", "netns", "exec", ns.Name, "cat", "/sys/class/net/"+ns.Tap+"/statistics/tx_dropped").Output()
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return v
}

// ifconfigCounters returns eth0's RX packets, errors and dropped.
func ifconfigCounters(t *testing.T, m *harness.Machine) (rx, errs, dropped int) {
	t.Helper()
	m.Send("ifconfig\r")
	re := regexp.MustCompile(`eth0:(?s:.)*?RX packets (\d+) .*\r\n\s+RX errors (\d+)  dropped (\d+)`)
	_, sm, err := m.ExpectRegexp(re, cmdTimeout)
	if err != nil {
		t.Fatalf("no eth0 counters: %v", err)
	}
	rx, _ = strconv.Atoi(sm[1])
	errs, _ = strconv.Atoi(sm[2])
	dropped, _ = strconv.Atoi(sm[3])
	return
}

// 100,000 random and mutated frames at the guest (truncated headers, bad
// checksums, bogus lengths, fragments, ARP garbage), bounded to a few
// minutes: the guest keeps answering and counts what it threw away.
func TestQEMUE2EFrameFlood(t *testing.T) {
	ns, m, p, guestMAC := robustGuest(t)
	rx0, _, _ := ifconfigCounters(t, m)
	fz := &frameFuzzer{rng: rand.New(rand.NewSource(100)), dst: guestMAC, src: p.mac,
		guest: net.ParseIP(nsGuestIP), host: net.ParseIP(nsHostIP)}
	const frames = 100000
	sent := flood(t, ns, p, fz, frames, 3*time.Minute)
	// Put the host's true ARP entry back: mutated ARP requests may have
	// taught the guest a wrong MAC for 10.0.3.1, as they would Linux.
	for range 3 {
		p.send(ether(guestMAC, p.mac, 0x0806, arpRequest(p.mac, fz.host, fz.guest)))
	}
	time.Sleep(time.Second)
	stillResponsive(t, ns, m)
	rx1, errs, dropped := ifconfigCounters(t, m)
	m.Send("cat /proc/net/snmp\r")
	snmp, hdrErrs, err := m.ExpectRegexp(regexp.MustCompile(`\nIp: \d+ \d+ \d+ (\d+)`), cmdTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after %d frames: eth0 RX packets %d → %d, errors %d, dropped %d, IP header errors %s", sent, rx0, rx1, errs, dropped, hdrErrs[1])
	if rx1-rx0 < frames*9/10 {
		t.Errorf("the guest saw only %d of %d frames", rx1-rx0, frames)
	}
	if hdrErrs[1] == "0" {
		t.Errorf("no IP header errors counted:\n%s", snmp)
	}
	if errs+dropped == 0 {
		t.Errorf("eth0 counted no errors or drops")
	}
}
