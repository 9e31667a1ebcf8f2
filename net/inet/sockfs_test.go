package inet

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"gomenuos/fs"
	"gomenuos/fs/sockfs"
	"gomenuos/net/link"
	"gomenuos/sched"
)

// TestSocketDescriptors maps both ends of a connection to descriptors and
// talks through the files: write/read reach TCP, /proc/net/tcp shows the
// sockfs inode, and closing the last descriptor closes the connection.
func TestSocketDescriptors(t *testing.T) {
	na, nb := twoStacks(t, link.Impairment{})
	task := sched.NewTask("fds")
	l := listenOn(t, nb, netip.AddrPortFrom(ipB, 25))
	c := mustSocket(t, na)
	cfd, err := c.MapFd(task, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(task, netip.AddrPortFrom(ipB, 25)); err != nil {
		t.Fatal(err)
	}
	srv, err := l.Accept(task)
	if err != nil {
		t.Fatal(err)
	}
	sock, f, err := sockfs.SockfdLookup(task, cfd)
	if err != nil || sock != sockfs.Socket(c) {
		t.Fatalf("SockfdLookup = %v, %v", sock, err)
	}
	if f.Path != fmt.Sprintf("socket:[%d]", c.Ino()) {
		t.Fatalf("file name %q", f.Path)
	}
	if _, err := f.Write(task, []byte("HELO")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := srv.Recv(task, buf); string(buf[:n]) != "HELO" || err != nil {
		t.Fatalf("server Recv = %q, %v", buf[:n], err)
	}
	if f.Poll()&fs.PollOut == 0 {
		t.Fatal("connected socket file not writable")
	}
	var proc bytes.Buffer
	na.TCP().WriteProcNetTCP(&proc)
	if !bytes.Contains(proc.Bytes(), []byte(fmt.Sprintf(" %d 1 ", c.Ino()))) {
		t.Fatalf("/proc/net/tcp lacks inode %d:\n%s", c.Ino(), proc.String())
	}
	if err := fs.FilesOf(task).Close(cfd); err != nil {
		t.Fatal(err)
	}
	f.Put() // our SockfdLookup reference: the last one, so the socket closes
	if n, err := srv.Recv(task, buf); n != 0 || err != nil {
		t.Fatalf("server Recv after client close = %d, %v; want EOF", n, err)
	}
}
