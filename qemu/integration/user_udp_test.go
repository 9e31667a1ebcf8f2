package integration

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"gomenuos/qemu/harness"
)

// UDP and socketpair from user space: user/udptest's cases and
// user/sockpair, whose expected lines are what the same static binaries
// print on Linux (6.18 and 6.1), and busybox's tftp client, which nobody
// here wrote, against a TFTP server on the host.

func TestQEMUUserUDP(t *testing.T) {
	m := boot(t, harness.Config{})
	expectOutput(t, m, "udptest basic", `sendto: 5
client autobound: 0.0.0.0, port set
recvfrom: 5 "hello" from 127.0.0.1, the client's port yes
send unconnected: EDESTADDRREQ
getpeername unconnected: ENOTCONN
connect: 0
after connect: local 127.0.0.1, peer 127.0.0.1:the server's port
send: 10
recvmsg into 4 bytes: 4 "0123" MSG_TRUNC=1
send: 10
recvmsg MSG_TRUNC into 4 bytes: 10 "0123" MSG_TRUNC=1
send: 4
recvmsg MSG_PEEK: 4 "peek" MSG_TRUNC=0
recvmsg: 4 "peek" MSG_TRUNC=0
recvmsg MSG_DONTWAIT: EAGAIN
send empty: 0
recvmsg empty: 0 "" MSG_TRUNC=0
send 65508 bytes: EMSGSIZE
send 65507 bytes: 65507
recv 65507 bytes: 65507
listen: EOPNOTSUPP
accept: EOPNOTSUPP
connect AF_UNSPEC: 0
getpeername after: ENOTCONN
send after: EDESTADDRREQ
connect: 0
shutdown SHUT_WR: 0
send after SHUT_WR (no SIGPIPE): EPIPE
`)
	expectOutput(t, m, "udptest refused", `connect: 0
send: 7
poll: 1 POLLIN=0 POLLERR=1
recv: ECONNREFUSED
send: 5
SO_ERROR: ECONNREFUSED
SO_ERROR again: 0
send: 4
unconnected sendto: 7
unconnected poll: 0
unconnected sendto: 5
`)
	expectOutput(t, m, "sockpair", `socketpair(AF_INET): EOPNOTSUPP
getsockname: family AF_UNIX, length 2
SO_TYPE SOCK_STREAM SO_DOMAIN AF_UNIX
parent: wrote 26
child: read returned 0
parent: read "HELLO THROUGH A SOCKETPAIR", then 0
write after the child exited: -1 EPIPE
`)
	snmp := run(t, m, `sh -c "grep Udp: /proc/net/snmp"`)
	if !strings.Contains(snmp, "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\r\n") {
		t.Errorf("/proc/net/snmp:\n%s", snmp)
	}
	head := run(t, m, `sh -c "head -1 /proc/net/udp"`)
	if !strings.Contains(head, fmt.Sprintf("%-127s\r\n", "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops")) {
		t.Errorf("/proc/net/udp header: %q", head)
	}
}

// busybox tftp fetches a file from the host and sends one back, over
// QEMU user networking (the host is 10.0.2.2): every datagram each way
// crosses the guest's UDP, and the server answers from a port of its own
// (RFC 1350's transfer identifier), which the client must follow.
func TestQEMUBusyboxTFTP(t *testing.T) {
	files := map[string][]byte{"hello.txt": bytes.Repeat([]byte("gomenuos speaks UDP\n"), 100)} // 2,000 bytes: 4 blocks
	srv, err := startTFTP(files)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	port := srv.LocalAddr().(*net.UDPAddr).Port
	m := boot(t, harness.Config{ExtraArgs: harness.UserNet()})
	run(t, m, fmt.Sprintf("tftp -g -r hello.txt -l /tmp/hello.txt 10.0.2.2 %d", port))
	out := run(t, m, `sh -c "wc -c < /tmp/hello.txt; md5sum /tmp/hello.txt"`)
	if !strings.Contains(out, "2000\r\n") {
		t.Fatalf("fetched file: %q", out)
	}
	run(t, m, `sh -c "head -c 1300 /tmp/hello.txt > /tmp/up.txt"`)
	run(t, m, fmt.Sprintf("tftp -p -l /tmp/up.txt -r up.txt 10.0.2.2 %d", port))
	var got []byte
	select {
	case got = <-srv.uploads:
	case <-time.After(cmdTimeout):
	}
	if !bytes.Equal(got, files["hello.txt"][:1300]) {
		t.Fatalf("uploaded %d bytes, want the first 1,300 of hello.txt", len(got))
	}
}

// tftpServer is a minimal RFC 1350 server: octet mode, 512-byte blocks,
// each transfer from a fresh port, no retransmission (the path is
// loopback and QEMU's NAT). Completed uploads arrive on uploads.
type tftpServer struct {
	*net.UDPConn
	files   map[string][]byte
	uploads chan []byte
}

func startTFTP(files map[string][]byte) (*tftpServer, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	s := &tftpServer{UDPConn: c, files: files, uploads: make(chan []byte, 4)}
	go s.serve()
	return s, nil
}

func (s *tftpServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, peer, err := s.ReadFromUDP(buf)
		if err != nil {
			return
		}
		op, name := binary.BigEndian.Uint16(buf), string(bytes.SplitN(buf[2:n], []byte{0}, 2)[0])
		switch op {
		case 1: // RRQ
			go s.send(peer, s.files[name])
		case 2: // WRQ
			go func() {
				if b, err := s.receive(peer); err == nil {
					s.uploads <- b
				}
			}()
		}
	}
}

// send transfers data block by block from a new port, waiting for each ACK.
func (s *tftpServer) send(peer *net.UDPAddr, data []byte) error {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer c.Close()
	ack := make([]byte, 64)
	for block := 1; ; block++ {
		chunk := data[min((block-1)*512, len(data)):min(block*512, len(data))]
		pkt := append(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, 3), uint16(block)), chunk...)
		if _, err := c.WriteToUDP(pkt, peer); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := c.ReadFromUDP(ack)
		if err != nil || n < 4 || binary.BigEndian.Uint16(ack) != 4 || int(binary.BigEndian.Uint16(ack[2:])) != block {
			return errors.New("tftp: no ACK")
		}
		if len(chunk) < 512 {
			return nil
		}
	}
}

// receive ACKs a write request from a new port and collects DATA blocks.
func (s *tftpServer) receive(peer *net.UDPAddr) ([]byte, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []byte
	buf := make([]byte, 1500)
	for block := 0; ; block++ {
		if _, err := c.WriteToUDP([]byte{0, 4, byte(block >> 8), byte(block)}, peer); err != nil {
			return nil, err
		}
		if block > 0 && len(buf) < 512 {
			return out, nil
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := c.ReadFromUDP(buf[:cap(buf)])
		if err != nil || n < 4 || binary.BigEndian.Uint16(buf) != 3 {
			return nil, errors.New("tftp: no DATA")
		}
		out = append(out, buf[4:n]...)
		buf = buf[:n-4]
	}
}

// A UDP server in the guest reached from the host through QEMU's udp
// port forward: busybox netstat -uan (parsing /proc/net/udp) lists it
// while it waits, it prints the host's datagram, and its answer reaches
// the host.
func TestQEMUUserUDPServer(t *testing.T) {
	fwd, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	m := boot(t, harness.Config{ExtraArgs: harness.UserNet(fmt.Sprintf("udp:127.0.0.1:%d-:5353", fwd))})
	expectOutput(t, m, "udptest hold 5353 &", "[1] started\n")
	for i := 0; !strings.Contains(run(t, m, "busybox netstat -uan"), "udp        0      0 0.0.0.0:5353"); i++ {
		if i == 50 {
			t.Fatal("busybox netstat -uan never listed 0.0.0.0:5353")
		}
		time.Sleep(100 * time.Millisecond)
	}
	c, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", fwd))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("from the host")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(cmdTimeout))
	b := make([]byte, 16)
	n, err := c.Read(b)
	if err != nil || string(b[:n]) != "ack" {
		t.Fatalf("the host got %q, %v", b[:n], err)
	}
	if _, err := m.Expect("hold: 13 bytes \"from the host\" from 10.0.2.2\r\nhold: sendto: 3\r\n", cmdTimeout); err != nil {
		t.Fatal(err)
	}
}
