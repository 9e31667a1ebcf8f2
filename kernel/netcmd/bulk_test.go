package netcmd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"regexp"
	"testing"
	"time"

	"gomenuos/kernel/menu"
	"gomenuos/sched"
)

// The stream is the same whatever the read sizes.
func TestBulkStreamChunkingIndependent(t *testing.T) {
	want := make([]byte, 1000)
	NewBulkStream().Read(want)
	got := make([]byte, 0, 1000)
	s := NewBulkStream()
	for i := 1; len(got) < 1000; i = i%13 + 1 {
		b := make([]byte, min(i, 1000-len(got)))
		s.Read(b)
		got = append(got, b...)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("chunked reads differ from one read")
	}
	if bytes.Equal(want[:8], want[8:16]) || bytes.Count(want, []byte{0}) > 20 {
		t.Fatalf("stream does not look random: % x", want[:32])
	}
}

func bulkSum(n int64) string {
	h := sha256.New()
	io.CopyN(h, NewBulkStream(), n)
	return hex.EncodeToString(h.Sum(nil))
}

// tcpsource → tcpsink over lo: both print the same size and the hash of
// the seeded stream.
func TestTcpsourceToTcpsink(t *testing.T) {
	env, _ := newEnv(t)
	cmds := BulkCommands(env)
	sink := &syncBuf{}
	done := make(chan error, 1)
	go func() {
		done <- find(cmds, "tcpsink").Run(&menu.Ctx{Out: sink, Task: sched.NewTask("tcpsink")}, []string{"6000"})
	}()
	for deadline := time.Now().Add(5 * time.Second); sink.String() == "" && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	const n = 1000003
	out := runCmd(t, find(cmds, "tcpsource"), "127.0.0.1", "6000", "1000003")
	sum := bulkSum(n)
	if !regexp.MustCompile(`^sent 1000003 bytes sha256 ` + sum + ` in \S+ \(\S+ MB/s\)\n$`).MatchString(out) {
		t.Fatalf("tcpsource printed %q, want sha256 %s", out, sum)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tcpsink did not finish")
	}
	want := `^tcpsink: listening on port 6000\nreceived 1000003 bytes sha256 ` + sum + ` in \S+ \(\S+ MB/s\)\n$`
	if !regexp.MustCompile(want).MatchString(sink.String()) {
		t.Fatalf("tcpsink printed %q", sink.String())
	}
}

// tcphi answers hi quietly and reports its count when interrupted.
func TestTcphiCountsConnections(t *testing.T) {
	env, _ := newEnv(t)
	out := &syncBuf{}
	task := sched.NewTask("tcphi")
	done := make(chan error, 1)
	go func() {
		done <- find(BulkCommands(env), "tcphi").Run(&menu.Ctx{Out: out, Task: task}, []string{"6001"})
	}()
	for deadline := time.Now().Add(5 * time.Second); out.String() == "" && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	for range 3 {
		if got := runCmd(t, find(Commands(env), "hello"), "127.0.0.1", "6001"); got != "send \"hello\" to 127.0.0.1:6001\nrecv \"hi\" from 127.0.0.1:6001\n" {
			t.Fatalf("hello printed %q", got)
		}
	}
	task.Interrupt()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("tcphi ignored the interrupt")
	}
	if out.String() != "tcphi: listening on port 6001\ntcphi: 3 connections\n" {
		t.Fatalf("tcphi printed %q", out.String())
	}
}

func TestTcpsinkUsage(t *testing.T) {
	env, _ := newEnv(t)
	err := find(BulkCommands(env), "tcpsink").Run(&menu.Ctx{Out: &bytes.Buffer{}, Task: sched.NewTask("x")}, nil)
	if err == nil || err.Error() != "usage: tcpsink [-n] PORT [COUNT]" {
		t.Fatalf("got %v", err)
	}
}

// -n: no hashing on either side, the rate only; the bytes are the
// stream's first 64 KiB over and over.
func TestTcpsourceToTcpsinkNoHash(t *testing.T) {
	env, _ := newEnv(t)
	cmds := BulkCommands(env)
	sink := &syncBuf{}
	done := make(chan error, 1)
	go func() {
		done <- find(cmds, "tcpsink").Run(&menu.Ctx{Out: sink, Task: sched.NewTask("tcpsink")}, []string{"-n", "6002"})
	}()
	for deadline := time.Now().Add(5 * time.Second); sink.String() == "" && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	out := runCmd(t, find(cmds, "tcpsource"), "-n", "127.0.0.1", "6002", "200000")
	if !regexp.MustCompile(`^sent 200000 bytes in \S+ \(\S+ MB/s\)\n$`).MatchString(out) {
		t.Fatalf("tcpsource -n printed %q", out)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tcpsink did not finish")
	}
	if !regexp.MustCompile(`^tcpsink: listening on port 6002\nreceived 200000 bytes in \S+ \(\S+ MB/s\)\n$`).MatchString(sink.String()) {
		t.Fatalf("tcpsink -n printed %q", sink.String())
	}
}
