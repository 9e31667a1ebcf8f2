package netcmd

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"strconv"
	"time"

	"gomenuos/kernel/menu"
	"gomenuos/net/inet"
	"gomenuos/net/tcp"
	"gomenuos/sched"
)

// bulkChunk is how much tcpsource hands Send and tcpsink asks Recv for at
// a time.
const bulkChunk = 64 << 10

// BulkCommands returns the bulk-transfer commands the host↔guest tests and
// benchmarks drive: tcpsink (receive and hash), tcpsource (send a
// deterministic stream and hash it) and tcphi (a quiet replyhi).
func BulkCommands(env *Env) []menu.Command {
	return []menu.Command{
		{Name: "tcpsink", Desc: "tcpsink [-n] PORT [COUNT]: accept COUNT connections, read each to EOF, print size, sha256 (not with -n) and rate", Run: env.tcpsink},
		{Name: "tcpsource", Desc: "tcpsource [-n] HOST PORT BYTES: connect, send BYTES of a seeded stream (-n: its first 64 KiB over and over, unhashed), print sha256 and rate", Run: env.tcpsource},
		{Name: "tcphi", Desc: "tcphi PORT: a quiet replyhi (answers hi, prints only the count when stopped)", Run: env.tcphi},
	}
}

// tcpsink listens on PORT and, COUNT times (1 by default), accepts one
// connection, reads it to EOF and prints
// `received N bytes sha256 HEX in T (X MB/s)`. With -n it does not hash
// and prints `received N bytes in T (X MB/s)`: under TCG SHA-256 runs at
// about the speed of the network path, so benchmarks leave it out.
func (e *Env) tcpsink(c *menu.Ctx, args []string) error {
	noHash, args := cutNoHash(args)
	if len(args) < 1 || len(args) > 2 {
		return errors.New("usage: tcpsink [-n] PORT [COUNT]")
	}
	port, err := parsePort(args[0])
	if err != nil {
		return err
	}
	count := 1
	if len(args) == 2 {
		if count, err = strconv.Atoi(args[1]); err != nil || count < 1 {
			return fmt.Errorf("tcpsink: bad count %q", args[1])
		}
	}
	l, err := e.listen(c.Task, port)
	if err != nil {
		return fmt.Errorf("tcpsink: %v", err)
	}
	defer l.Close(c.Task)
	c.Printf("tcpsink: listening on port %d\n", port)
	buf := make([]byte, bulkChunk)
	for range count {
		conn, err := l.Accept(c.Task)
		if err != nil {
			return err
		}
		h := sha256.New()
		if noHash {
			h = nil
		}
		n, d, err := drain(conn, c.Task, buf, h)
		conn.Close(c.Task)
		if err != nil {
			return fmt.Errorf("tcpsink: after %d bytes: %v", n, err)
		}
		c.Printf("received %d bytes%s in %v (%s MB/s)\n", n, sumText(h), d.Round(time.Millisecond), rate(n, d))
	}
	return nil
}

// drain reads conn to EOF, hashing what arrives into h unless it is nil;
// the clock starts at the first byte.
func drain(conn *inet.Socket, t *sched.Task, buf []byte, h hash.Hash) (int64, time.Duration, error) {
	var total int64
	var start time.Time
	for {
		k, err := conn.Recv(t, buf)
		if err != nil {
			return total, 0, err
		}
		if k == 0 {
			return total, time.Since(start), nil
		}
		if total == 0 {
			start = time.Now()
		}
		if h != nil {
			h.Write(buf[:k])
		}
		total += int64(k)
	}
}

// tcpsource connects to HOST:PORT, sends BYTES of the BulkStream and
// closes, printing `sent N bytes sha256 HEX in T (X MB/s)`. The time
// includes the close, so the last byte has been handed to TCP.
func (e *Env) tcpsource(c *menu.Ctx, args []string) error {
	noHash, args := cutNoHash(args)
	if len(args) != 3 {
		return errors.New("usage: tcpsource [-n] HOST PORT BYTES")
	}
	dst, err := target(args[:2])
	if err != nil {
		return err
	}
	total, err := strconv.ParseInt(args[2], 10, 64)
	if err != nil || total < 0 {
		return fmt.Errorf("tcpsource: bad byte count %q", args[2])
	}
	s, err := e.Net.Socket(inet.AFInet, inet.SockStream, 0)
	if err != nil {
		return err
	}
	defer s.Close(c.Task)
	if err := s.Connect(c.Task, dst); err != nil {
		return fmt.Errorf("tcpsource: connect %v: %v", dst, err)
	}
	start := time.Now()
	h := sha256.New()
	src := NewBulkStream()
	buf := make([]byte, bulkChunk)
	if noHash {
		h = nil
		src.Read(buf)
	}
	for sent := int64(0); sent < total; {
		chunk := buf[:min(int64(len(buf)), total-sent)]
		if h != nil {
			src.Read(chunk)
			h.Write(chunk)
		}
		k, err := s.Send(c.Task, chunk)
		sent += int64(k)
		if err != nil || k < len(chunk) {
			return fmt.Errorf("tcpsource: after %d bytes: %v", sent, err)
		}
	}
	s.Shutdown(tcp.ShutWr)
	d := time.Since(start)
	c.Printf("sent %d bytes%s in %v (%s MB/s)\n", total, sumText(h), d.Round(time.Millisecond), rate(total, d))
	return nil
}

func (e *Env) listen(t *sched.Task, port uint16) (*inet.Socket, error) {
	l, err := e.Net.Socket(inet.AFInet, inet.SockStream, 0)
	if err != nil {
		return nil, err
	}
	if err := l.SetSockOpt(inet.SolSocket, inet.SoReuseAddr, 1); err == nil {
		err = l.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), port))
		if err == nil {
			err = l.Listen(1024)
		}
		if err == nil {
			return l, nil
		}
	}
	l.Close(t)
	return nil, err
}

func parsePort(s string) (uint16, error) {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return uint16(p), nil
}

// cutNoHash strips a leading -n.
func cutNoHash(args []string) (bool, []string) {
	if len(args) > 0 && args[0] == "-n" {
		return true, args[1:]
	}
	return false, args
}

// sumText is " sha256 HEX", or nothing without a hash.
func sumText(h hash.Hash) string {
	if h == nil {
		return ""
	}
	return " sha256 " + hex.EncodeToString(h.Sum(nil))
}

// rate is MB/s (10^6 bytes) with one decimal.
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "inf"
	}
	return strconv.FormatFloat(float64(n)/1e6/d.Seconds(), 'f', 1, 64)
}
