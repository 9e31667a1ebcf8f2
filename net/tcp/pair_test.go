package tcp

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestHandshakeDataClose(t *testing.T) {
	l, a, b := newPair(t, impair{delay: time.Millisecond})
	c, s := connectPair(t, l, a, b)
	if c.State() != StateEstablished || s.State() != StateEstablished {
		t.Fatalf("states %v / %v", c.State(), s.State())
	}
	if n, err := c.Send([]byte("hello")); n != 5 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	if n, err := s.Send([]byte("world!")); n != 6 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	l.run(100 * time.Millisecond)
	buf := make([]byte, 64)
	if n, _ := s.Recv(buf, false); string(buf[:n]) != "hello" {
		t.Fatalf("server got %q", buf[:n])
	}
	if n, _ := c.Recv(buf, false); string(buf[:n]) != "world!" {
		t.Fatalf("client got %q", buf[:n])
	}
	c.Close()
	l.run(100 * time.Millisecond)
	if got := s.State(); got != StateCloseWait {
		t.Fatalf("server state %v after client close, want CLOSE_WAIT", got)
	}
	if n, err := s.Recv(buf, false); n != 0 || err != nil {
		t.Fatalf("server Recv at EOF = %d, %v", n, err)
	}
	s.Close()
	l.run(100 * time.Millisecond)
	if got := c.State(); got != StateTimeWait {
		t.Fatalf("client state %v, want TIME_WAIT", got)
	}
	if got := s.State(); got != StateClose {
		t.Fatalf("server state %v, want CLOSE", got)
	}
	l.run(61 * time.Second)
	if got := c.State(); got != StateClose {
		t.Fatalf("client state %v after 2MSL, want CLOSE", got)
	}
	if n := len(a.ehash) + len(b.ehash); n != 0 {
		t.Fatalf("%d sockets left in ehash", n)
	}
}

func TestConnectRefused(t *testing.T) {
	l, a, _ := newPair(t, impair{delay: time.Millisecond})
	c := a.NewSock()
	_ = c.Connect(netip.AddrPortFrom(addrB, 81))
	l.run(time.Second)
	if done, err := c.ConnectResult(); !done || err != ErrConnRefused {
		t.Fatalf("ConnectResult = %v, %v; want ECONNREFUSED", done, err)
	}
}

func TestBulkTransfer(t *testing.T) {
	l, a, b := newPair(t, impair{delay: 5 * time.Millisecond})
	c, s := connectPair(t, l, a, b)
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	got := transfer(t, l, c, s, data, 10*time.Minute)
	if !bytes.Equal(got, data) {
		t.Fatalf("received %d bytes, differ from sent", len(got))
	}
}

// transfer sends data from c to s, driving the clock in 1 ms steps.
func transfer(t testing.TB, l *testLink, c, s *Sock, data []byte, limit time.Duration) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 64<<10)
	sent := 0
	closed := false
	for elapsed := time.Duration(0); elapsed < limit; elapsed += time.Millisecond {
		for sent < len(data) {
			n, err := c.Send(data[sent:])
			if err == ErrWouldBlock {
				break
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			sent += n
		}
		if sent == len(data) && !closed {
			must(t, c.Shutdown(ShutWr))
			closed = true
		}
		l.run(time.Millisecond)
		for {
			n, err := s.Recv(buf, false)
			if err == ErrWouldBlock {
				break
			}
			if err != nil {
				t.Fatalf("Recv: %v", err)
			}
			if n == 0 {
				return got
			}
			got = append(got, buf[:n]...)
		}
	}
	t.Fatalf("transfer stalled: %d of %d bytes sent, %d received; client %v server %v\nclient %s\nserver %s",
		sent, len(data), len(got), c.State(), s.State(), c.debugString(), s.debugString())
	return nil
}

// debugString dumps the sequence state for a failing test.
func (s *Sock) debugString() string {
	s.proto.lock()
	defer s.proto.unlock()
	return fmt.Sprintf("now=%v rtxDeadline=%v rto=%v ", s.proto.now(), s.rtxT.deadline, s.rtt.rto) + fmt.Sprintf("una=%d nxt=%d max=%d sndWnd=%d bufSeq=%d buf=%d fin=%v finAcked=%v rcvNxt=%d rcvWnd=%d rcvWup=%d rcvBuf=%d ooo=%d cwnd=%d ca=%d rtx=%v/%d persist=%v delack=%v retrans=%d backoff=%d out=%d sacked=%d lost=%d retr=%d mss=%d",
		s.sndUna, s.sndNxt, s.sndMax, s.sndWnd, s.sndBufSeq, s.sndq.len(), s.finQueued, s.finAcked,
		s.rcvNxt, s.rcvWnd, s.rcvWup, s.rcvq.len(), len(s.ooo), s.cwnd, s.caState, s.rtxT.armed, s.xmitTimer,
		s.persistT.armed, s.delackT.armed, s.retrans, s.backoff, s.rtxq.packetsOut(), s.rtxq.sackedOut, s.rtxq.lostOut, s.rtxq.retransOut, s.sndMSS)
}

// TestLoopbackSizedMTU: with loopback's 65536-byte MTU segments must
// still fit the 16-bit IPv4 total length (the fake IP layer panics if not).
func TestLoopbackSizedMTU(t *testing.T) {
	l, a, b := newPair(t, impair{delay: 100 * time.Microsecond})
	l.ends[0].mtu, l.ends[1].mtu = 65536, 65536
	c, s := connectPair(t, l, a, b)
	if mss, _ := c.GetOption(OptMaxSeg); mss != 65483 {
		t.Fatalf("MSS on a 65536 MTU = %d, want 65483 as Linux's lo", mss)
	}
	data := bytes.Repeat([]byte("0123456789"), 100000)
	if got := transfer(t, l, c, s, data, time.Minute); !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
}
