// Package sockfs is the pseudo file system that gives every socket an
// inode and, through a File, a file descriptor (Linux: net/socket.c's
// sockfs). The socket layer (net/inet) allocates a socket and its inode
// together and maps it to a descriptor:
//
//	s := &Socket{...}
//	s.inode = sockfs.NewInode(s)            // Linux: sock_alloc
//	fd, err := sockfs.MapFd(t, s.inode, 0)  // Linux: sock_map_fd
//
// read, write, poll and the last close of the descriptor then reach the
// socket through the Socket interface, and /proc/<id>/fd shows the
// descriptor as socket:[ino].
package sockfs

import (
	"strconv"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Socket is the socket layer's side of a socket file: what Linux's
// sock_read_iter, sock_write_iter and sock_close call through the socket's
// proto_ops. *inet.Socket implements it. A socket may also implement
// Poller; otherwise it polls as always readable and writable.
type Socket interface {
	Recv(t *sched.Task, b []byte) (int, error)
	Send(t *sched.Task, b []byte) (int, error)
	// Close runs when the last descriptor for the socket is closed; it gets
	// no task (the close cannot be interrupted).
	Close(t *sched.Task) error
}

// Poller reports a socket's readiness (Linux: sock_poll → tcp_poll).
type Poller interface {
	Poll() fs.PollMask
}

// sb is the one sockfs super block (Linux: sock_mnt).
var sb = fs.NewSuperBlock("sockfs", nil)

// NewInode allocates the inode of a new socket: S_IFSOCK, mode 0777, a
// number unique among sockets, and sock as its private data (Linux:
// sock_alloc → new_inode_pseudo, with struct socket_alloc holding both).
func NewInode(sock Socket) *fs.Inode {
	inode := fs.NewInode(sb, fs.ModeSock|0o777, nil, socketFileOps{})
	inode.Private = sock
	return inode
}

// AllocFile opens a File on a socket inode, named socket:[ino] as /proc
// shows it; flags are the O_* flags (O_RDWR is implied). Linux:
// sock_alloc_file.
func AllocFile(inode *fs.Inode, flags int) *fs.File {
	f := fs.NewFile(inode, flags&^fs.O_ACCMODE|fs.O_RDWR, socketFileOps{})
	f.Path = "socket:[" + strconv.FormatUint(inode.Ino, 10) + "]" // not fmt: two per loopback round trip
	return f
}

// MapFd gives the socket a descriptor in t's table (Linux: sock_map_fd =
// sock_alloc_file + fd_install). On failure (EMFILE) nothing stays open:
// the socket is not closed, it was never the file's.
func MapFd(t *sched.Task, inode *fs.Inode, flags int) (int, error) {
	f := AllocFile(inode, flags)
	fd, err := fs.FilesOf(t).Install(f)
	if err != nil {
		return -1, err
	}
	return fd, nil
}

// SockfdLookup returns the socket behind t's descriptor fd and the File
// holding it; the caller Puts the File when done. Not a socket: ENOTSOCK;
// no such descriptor: EBADF (Linux: sockfd_lookup).
func SockfdLookup(t *sched.Task, fd int) (Socket, *fs.File, error) {
	f, err := fs.FilesOf(t).Get(fd)
	if err != nil {
		return nil, nil, err
	}
	sock, ok := SocketOf(f)
	if !ok {
		f.Put()
		return nil, nil, fs.ENOTSOCK
	}
	return sock, f, nil
}

// SocketOf returns the socket a File is open on (Linux: sock_from_file).
func SocketOf(f *fs.File) (Socket, bool) {
	if f.Inode.Mode.Type() != fs.ModeSock || f.Inode.Sb != sb {
		return nil, false
	}
	sock, ok := f.Inode.Private.(Socket)
	return sock, ok
}

// socketFileOps turn file calls into socket calls (Linux: socket_file_ops).
// Opening a socket inode by path is impossible (Linux: sock_no_open).
type socketFileOps struct{}

func (socketFileOps) Open(*fs.Inode, *fs.File) error { return fs.ENXIO }

// Read is recv with no flags (Linux: sock_read_iter).
func (socketFileOps) Read(t *sched.Task, f *fs.File, p []byte, _ *int64) (int, error) {
	return f.Inode.Private.(Socket).Recv(t, p)
}

// Write is send with no flags (Linux: sock_write_iter).
func (socketFileOps) Write(t *sched.Task, f *fs.File, p []byte, _ *int64) (int, error) {
	return f.Inode.Private.(Socket).Send(t, p)
}

// Poll asks the socket (Linux: sock_poll).
func (socketFileOps) Poll(f *fs.File) fs.PollMask {
	if p, ok := f.Inode.Private.(Poller); ok {
		return p.Poll()
	}
	return fs.PollIn | fs.PollOut
}

// PollQueues is where a poller sleeps for the socket's readiness to change
// (Linux: sock_poll's poll_wait on the socket's wait queue).
func (socketFileOps) PollQueues(f *fs.File) []*sched.WaitQueue {
	if q, ok := f.Inode.Private.(interface{ PollQueue() *sched.WaitQueue }); ok {
		return []*sched.WaitQueue{q.PollQueue()}
	}
	return nil
}

func (socketFileOps) Ioctl(*sched.Task, *fs.File, uint32, uintptr) (uintptr, error) {
	return 0, fs.ENOTTY
}

// Release closes the socket when its last descriptor goes (Linux:
// sock_close → __sock_release).
func (socketFileOps) Release(f *fs.File) error {
	return f.Inode.Private.(Socket).Close(nil)
}
