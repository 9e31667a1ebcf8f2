package sockfs

import (
	"bytes"
	"fmt"
	"testing"

	"gomenuos/fs"
	"gomenuos/fs/procfs"
	"gomenuos/sched"
)

// pipeSock is a socket that echoes what is sent to it.
type pipeSock struct {
	buf    bytes.Buffer
	closed int
}

func (s *pipeSock) Recv(_ *sched.Task, b []byte) (int, error) { return s.buf.Read(b) }
func (s *pipeSock) Send(_ *sched.Task, b []byte) (int, error) { return s.buf.Write(b) }
func (s *pipeSock) Close(*sched.Task) error                   { s.closed++; return nil }

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSocketInodeFdAndProcLink(t *testing.T) {
	ns := fs.NewRoot()
	mustOK(t, procfs.Mount(ns))
	task := sched.NewTask("replyhi")
	defer fs.ExitFiles(task)

	sock := &pipeSock{}
	inode := NewInode(sock)
	other := NewInode(&pipeSock{})
	if inode.Mode != fs.ModeSock|0o777 || other.Ino == inode.Ino {
		t.Fatalf("inode mode %v ino %d/%d: want a socket and unique numbers", inode.Mode, inode.Ino, other.Ino)
	}
	fd, err := MapFd(task, inode, 0)
	mustOK(t, err)
	if fd != 0 {
		t.Fatalf("first fd = %d, want 0", fd)
	}

	got, f, err := SockfdLookup(task, fd)
	mustOK(t, err)
	if got != sock {
		t.Fatal("SockfdLookup returned another socket")
	}
	mustOK(t, fs.WriteAll(task, f, []byte("hi\n")))
	buf := make([]byte, 8)
	if n, err := f.Read(task, buf); string(buf[:n]) != "hi\n" || err != nil {
		t.Fatalf("read through the fd = %q, %v", buf[:n], err)
	}
	f.Put()

	want := fmt.Sprintf("socket:[%d]", inode.Ino)
	link, err := ns.Readlink(task, "/proc/self/fd/0")
	if link != want || err != nil {
		t.Fatalf("readlink /proc/self/fd/0 = %q, %v; want %q", link, err, want)
	}

	dup, err := fs.FilesOf(task).Dup(fd)
	mustOK(t, err)
	mustOK(t, fs.FilesOf(task).Close(fd))
	if sock.closed != 0 {
		t.Fatal("socket closed while a dup'd descriptor is open")
	}
	mustOK(t, fs.FilesOf(task).Close(dup))
	if sock.closed != 1 {
		t.Fatalf("socket closed %d times after the last close, want 1", sock.closed)
	}
}

func TestSockfdLookupErrors(t *testing.T) {
	ns := fs.NewRoot()
	task := sched.NewTask("t")
	defer fs.ExitFiles(task)
	fd, err := ns.OpenFD(task, "/motd", fs.O_RDWR|fs.O_CREAT, 0o644)
	mustOK(t, err)
	if _, _, err := SockfdLookup(task, fd); err != fs.ENOTSOCK {
		t.Fatalf("regular file: %v, want ENOTSOCK", err)
	}
	if _, _, err := SockfdLookup(task, 9); err != fs.EBADF {
		t.Fatalf("closed fd: %v, want EBADF", err)
	}
	if f, err := fs.FilesOf(task).Get(fd); err == nil {
		if _, ok := SocketOf(f); ok {
			t.Fatal("SocketOf a regular file")
		}
		f.Put()
	}
	mustOK(t, ns.Mknod(task, "/sock", fs.ModeSock|0o777, 0))
	if _, err := ns.Open(task, "/sock", fs.O_RDWR, 0); err != fs.ENXIO {
		t.Fatalf("opening a socket node by path: %v, want ENXIO", err)
	}
}
