package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"regexp"
	"testing"
	"time"

	"gomenuos/kernel/netcmd"
	"gomenuos/qemu/harness"
)

// e2eBytes is the size of every bulk transfer: 10 MB each way.
const e2eBytes = 10 << 20

// bulkTimeout bounds one 10 MB transfer under TCG (and through the lossy
// relay).
const bulkTimeout = 3 * time.Minute

// streamSum is the sha256 of the first n bytes of netcmd's BulkStream,
// what tcpsource sends.
func streamSum(n int64) string {
	h := sha256.New()
	io.CopyN(h, netcmd.NewBulkStream(), n)
	return hex.EncodeToString(h.Sum(nil))
}

var (
	sentRe     = regexp.MustCompile(`sent (\d+) bytes sha256 ([0-9a-f]{64}) in \S+ \(([\d.]+) MB/s\)`)
	receivedRe = regexp.MustCompile(`received (\d+) bytes sha256 ([0-9a-f]{64}) in \S+ \(([\d.]+) MB/s\)`)
)

// hashConn reads c to EOF (bounded by deadline) and returns the byte
// count, the sha256 and the rate from first to last byte.
func hashConn(c net.Conn, deadline time.Time) (int64, string, float64, error) {
	c.SetReadDeadline(deadline)
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var n int64
	var start time.Time
	for {
		k, err := c.Read(buf)
		if k > 0 && n == 0 {
			start = time.Now()
		}
		h.Write(buf[:k])
		n += int64(k)
		if err == io.EOF {
			return n, hex.EncodeToString(h.Sum(nil)), float64(n) / 1e6 / time.Since(start).Seconds(), nil
		}
		if err != nil {
			return n, "", 0, err
		}
	}
}

// sendStream writes n bytes of the BulkStream to c and half-closes it;
// it returns the rate the host saw (the guest's is the one that counts).
func sendStream(c net.Conn, n int64, deadline time.Time) (float64, error) {
	c.SetWriteDeadline(deadline)
	start := time.Now()
	if _, err := io.CopyN(c, netcmd.NewBulkStream(), n); err != nil {
		return 0, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	return float64(n) / 1e6 / time.Since(start).Seconds(), nil
}

// guestToHost runs `tcpsource HOST PORT n` in the guest against the host
// listener l and checks both ends saw the seeded stream byte for byte. It
// returns the guest's rate in MB/s.
func guestToHost(t testing.TB, m *harness.Machine, l net.Listener, host string, n int64) float64 {
	t.Helper()
	port := l.Addr().(*net.TCPAddr).Port
	type result struct {
		n   int64
		sum string
		err error
	}
	got := make(chan result, 1)
	go func() {
		l.(interface{ SetDeadline(time.Time) error }).SetDeadline(time.Now().Add(bulkTimeout))
		c, err := l.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer c.Close()
		k, sum, _, err := hashConn(c, time.Now().Add(bulkTimeout))
		got <- result{k, sum, err}
	}()
	m.Send(fmt.Sprintf("tcpsource %s %d %d\r", host, port, n))
	_, sm, err := m.ExpectRegexp(sentRe, bulkTimeout)
	if err != nil {
		t.Fatalf("tcpsource: %v", err)
	}
	var r result
	select {
	case r = <-got:
	case <-time.After(bulkTimeout):
		t.Fatal("host never saw the end of the stream")
	}
	want := streamSum(n)
	if r.err != nil || r.n != n || r.sum != want {
		t.Fatalf("host received %d bytes sha256 %s (%v), want %d bytes sha256 %s", r.n, r.sum, r.err, n, want)
	}
	if sm[1] != fmt.Sprint(n) || sm[2] != want {
		t.Fatalf("guest says it sent %s bytes sha256 %s, want %d %s", sm[1], sm[2], n, want)
	}
	if _, err := m.Expect(prompt, cmdTimeout); err != nil {
		t.Fatal(err)
	}
	return parseRate(sm[3])
}

// hostToGuest runs `tcpsink PORT` in the guest, dials it with dial and
// sends n bytes; the guest must report the same size and hash. It
// returns the guest's rate in MB/s.
func hostToGuest(t testing.TB, m *harness.Machine, guestPort int, dial func() (net.Conn, error), n int64) float64 {
	t.Helper()
	m.Send(fmt.Sprintf("tcpsink %d\r", guestPort))
	if _, err := m.Expect(fmt.Sprintf("tcpsink: listening on port %d\r\n", guestPort), cmdTimeout); err != nil {
		t.Fatal(err)
	}
	c, err := dial()
	if err != nil {
		t.Fatalf("dial guest: %v", err)
	}
	defer c.Close()
	if _, err := sendStream(c, n, time.Now().Add(bulkTimeout)); err != nil {
		t.Fatalf("send: %v", err)
	}
	_, sm, err := m.ExpectRegexp(receivedRe, bulkTimeout)
	if err != nil {
		t.Fatalf("tcpsink: %v", err)
	}
	if want := streamSum(n); sm[1] != fmt.Sprint(n) || sm[2] != want {
		t.Fatalf("guest received %s bytes sha256 %s, want %d %s", sm[1], sm[2], n, want)
	}
	if _, err := m.Expect(prompt, cmdTimeout); err != nil {
		t.Fatal(err)
	}
	return parseRate(sm[3])
}

func parseRate(s string) float64 {
	var f float64
	fmt.Sscan(s, &f)
	return f
}

// replyhiExchange is the nc exchange: with replyhi running in the guest,
// dial, send "hello", read to EOF: exactly "hi".
func replyhiExchange(t testing.TB, dial func() (net.Conn, error)) {
	t.Helper()
	c, err := dial()
	if err != nil {
		t.Fatalf("dial replyhi: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(cmdTimeout))
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hi" {
		t.Fatalf("replyhi answered %q (%v), want \"hi\"", got, err)
	}
}
