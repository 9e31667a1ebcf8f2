package proc

import (
	"encoding/binary"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"gomenuos/fs"
	"gomenuos/fs/sockfs"
	"gomenuos/net/inet"
	"gomenuos/net/tcp"
)

// Socket system calls (Linux: net/socket.c). Each handler decodes the
// user's arguments and calls the function Linux's walkthroughs name:
// socket() → __sys_socket → sock_create (inet) → sock_alloc + inet_create
// → sock_map_fd; accept() → __sys_accept4 → inet_accept → inet_csk_accept;
// connect() → __sys_connect → inet_stream_connect → tcp_v4_connect;
// send()/recv() → sock_sendmsg/sock_recvmsg → tcp_sendmsg/tcp_recvmsg.

func init() {
	register(41, "socket", func(t *Thread, a args) (uintptr, error) { return t.sysSocket(int(a[0]), int(a[1]), int(a[2])) })
	register(42, "connect", func(t *Thread, a args) (uintptr, error) { return 0, t.sysConnect(int(a[0]), a[1], a[2]) })
	register(43, "accept", func(t *Thread, a args) (uintptr, error) { return t.sysAccept4(int(a[0]), a[1], a[2], 0) })
	register(288, "accept4", func(t *Thread, a args) (uintptr, error) {
		return t.sysAccept4(int(a[0]), a[1], a[2], int(a[3]))
	})
	register(44, "sendto", func(t *Thread, a args) (uintptr, error) {
		return t.sysSendto(int(a[0]), [][2]uintptr{{a[1], a[2]}}, int(a[3]), a[4], a[5])
	})
	register(45, "recvfrom", func(t *Thread, a args) (uintptr, error) {
		n, _, err := t.sysRecvfrom(int(a[0]), [][2]uintptr{{a[1], a[2]}}, int(a[3]), a[4], a[5])
		return n, err
	})
	register(46, "sendmsg", func(t *Thread, a args) (uintptr, error) { return t.sysSendmsg(int(a[0]), a[1], int(a[2])) })
	register(47, "recvmsg", func(t *Thread, a args) (uintptr, error) { return t.sysRecvmsg(int(a[0]), a[1], int(a[2])) })
	register(48, "shutdown", sysShutdown)
	register(49, "bind", func(t *Thread, a args) (uintptr, error) { return 0, t.sysBind(int(a[0]), a[1], a[2]) })
	register(50, "listen", func(t *Thread, a args) (uintptr, error) { return 0, t.sysListen(int(a[0]), int(a[1])) })
	register(51, "getsockname", func(t *Thread, a args) (uintptr, error) { return 0, t.getName(int(a[0]), a[1], a[2], false) })
	register(52, "getpeername", func(t *Thread, a args) (uintptr, error) { return 0, t.getName(int(a[0]), a[1], a[2], true) })
	register(53, "socketpair", func(t *Thread, a args) (uintptr, error) {
		return 0, t.sysSocketpair(int(a[0]), int(a[1]), int(a[2]), a[3])
	})
	register(54, "setsockopt", sysSetsockopt)
	register(55, "getsockopt", sysGetsockopt)
}

// Net is the socket layer processes' sockets live in; the kernel sets it
// at boot (the same one the Go shell's network commands use).
var Net atomic.Pointer[inet.Net]

// Socket type flags (Linux: SOCK_NONBLOCK, SOCK_CLOEXEC).
const (
	sockNonblock = fs.O_NONBLOCK
	sockCloexec  = oCloexec
	sockTypeMask = 0xf
	sockaddrIn   = 16 // sizeof(struct sockaddr_in)
	afUnspec     = 0
)

// sockfdLookup returns the socket behind fd and its file (Linux:
// sockfd_lookup): EBADF for no descriptor, ENOTSOCK for another file.
func (t *Thread) sockfdLookup(fd int) (*inet.Socket, *fs.File, error) {
	f, err := t.file(fd)
	if err != nil {
		return nil, nil, err
	}
	sk, ok := sockfs.SocketOf(f)
	if s, isInet := sk.(*inet.Socket); ok && isInet {
		return s, f, nil
	}
	f.Put()
	return nil, nil, syscall.ENOTSOCK
}

// sockErr is what a socket error returns to user space.
func sockErr(err error) error {
	if err == nil {
		return nil
	}
	if fs.ToErrno(err) == fs.ERESTARTSYS {
		return errRestartSys
	}
	return inet.Errno(err)
}

// sysSocket creates a socket and gives it a descriptor (Linux:
// __sys_socket → sock_create → sock_map_fd).
func (t *Thread) sysSocket(family, typ, proto int) (uintptr, error) {
	if typ&^(sockTypeMask|sockNonblock|sockCloexec) != 0 {
		return 0, syscall.EINVAL
	}
	n := Net.Load()
	if n == nil {
		return 0, syscall.EAFNOSUPPORT
	}
	s, err := n.Socket(family, typ&sockTypeMask, proto)
	if err != nil {
		return 0, sockErr(err)
	}
	return t.sockMapFd(s, typ&(sockNonblock|sockCloexec))
}

// sysSocketpair creates two connected sockets and gives each a descriptor
// (Linux: __sys_socketpair → sock_create twice → unix_socketpair →
// sock_map_fd twice); only AF_UNIX SOCK_STREAM pairs exist.
func (t *Thread) sysSocketpair(family, typ, proto int, sv uintptr) error {
	if typ&^(sockTypeMask|sockNonblock|sockCloexec) != 0 {
		return syscall.EINVAL
	}
	n := Net.Load()
	if n == nil {
		return syscall.EAFNOSUPPORT
	}
	a, b, err := n.SocketPair(family, typ&sockTypeMask, proto)
	if err != nil {
		return sockErr(err)
	}
	flags := typ & (sockNonblock | sockCloexec)
	fa, err := t.sockMapFd(a, flags)
	if err != nil {
		b.Close(nil)
		return err
	}
	fb, err := t.sockMapFd(b, flags)
	if err != nil {
		t.files().Close(int(fa))
		return err
	}
	var fds [8]byte
	binary.LittleEndian.PutUint32(fds[0:], uint32(fa))
	binary.LittleEndian.PutUint32(fds[4:], uint32(fb))
	if err := t.Proc.MM().CopyToUser(sv, fds[:]); err != nil {
		t.files().Close(int(fa))
		t.files().Close(int(fb))
		return err
	}
	return nil
}

// sockMapFd installs a descriptor for the socket (Linux: sock_map_fd =
// sock_alloc_file + fd_install). A socket that gets no descriptor is
// closed.
func (t *Thread) sockMapFd(s *inet.Socket, flags int) (uintptr, error) {
	if flags&sockNonblock != 0 {
		s.SetNonblock(true)
	}
	f := sockfs.AllocFile(s.Inode(), flags&sockNonblock)
	fd, err := t.files().InstallFrom(f, 0, flags&sockCloexec != 0)
	if err != nil {
		f.Put() // the last reference: closes the socket
		return 0, err
	}
	return uintptr(fd), nil
}

// readSockaddr decodes a struct sockaddr_in (Linux: move_addr_to_kernel
// + the family's address check): EINVAL for a short length, EAFNOSUPPORT
// for another family; AF_UNSPEC gives the zero AddrPort.
func (t *Thread) readSockaddr(addr, addrlen uintptr) (netip.AddrPort, error) {
	if int(addrlen) < 2 || addrlen > 128 {
		return netip.AddrPort{}, syscall.EINVAL
	}
	b := make([]byte, addrlen)
	if err := t.Proc.MM().CopyFromUser(b, addr); err != nil {
		return netip.AddrPort{}, err
	}
	switch binary.LittleEndian.Uint16(b) {
	case afUnspec:
		return netip.AddrPort{}, nil
	case inet.AFInet:
	default:
		return netip.AddrPort{}, syscall.EAFNOSUPPORT
	}
	if addrlen < sockaddrIn {
		return netip.AddrPort{}, syscall.EINVAL
	}
	ip := netip.AddrFrom4([4]byte(b[4:8]))
	return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[2:4])), nil
}

// writeSockaddr stores a sockaddr_in where the user asked (nothing when
// either pointer is null).
func (t *Thread) writeSockaddr(ap netip.AddrPort, addr, lenAddr uintptr) error {
	if addr == 0 || lenAddr == 0 {
		return nil
	}
	var b [sockaddrIn]byte
	binary.LittleEndian.PutUint16(b[0:], inet.AFInet)
	binary.BigEndian.PutUint16(b[2:], ap.Port())
	if ap.Addr().Is4() {
		a4 := ap.Addr().As4()
		copy(b[4:8], a4[:])
	}
	return t.moveAddrToUser(b[:], addr, lenAddr)
}

// moveAddrToUser stores the address kaddr at addr, truncated to the
// buffer length the user left in *lenAddr, and the full length in
// *lenAddr (Linux: move_addr_to_user).
func (t *Thread) moveAddrToUser(kaddr []byte, addr, lenAddr uintptr) error {
	m := t.Proc.MM()
	var lb [4]byte
	if err := m.CopyFromUser(lb[:], lenAddr); err != nil {
		return err
	}
	have := int32(binary.LittleEndian.Uint32(lb[:]))
	if have < 0 {
		return syscall.EINVAL
	}
	if err := m.CopyToUser(addr, kaddr[:min(int(have), len(kaddr))]); err != nil {
		return err
	}
	return putU32(m, lenAddr, uint32(len(kaddr)))
}

// sysBind binds a local address (Linux: __sys_bind → inet_bind).
func (t *Thread) sysBind(fd int, addr, addrlen uintptr) error {
	s, f, err := t.sockfdLookup(fd)
	if err != nil {
		return err
	}
	defer f.Put()
	ap, err := t.readSockaddr(addr, addrlen)
	if err != nil {
		return err
	}
	if !ap.IsValid() {
		return syscall.EAFNOSUPPORT // AF_UNSPEC bind: Linux accepts it only for INADDR_ANY
	}
	return sockErr(s.Bind(ap))
}

// sysListen starts listening (Linux: __sys_listen → inet_listen); the
// backlog is capped as by net.core.somaxconn (4096).
func (t *Thread) sysListen(fd, backlog int) error {
	s, f, err := t.sockfdLookup(fd)
	if err != nil {
		return err
	}
	defer f.Put()
	backlog = min(max(backlog, 0), 4096)
	return sockErr(s.Listen(backlog))
}

// sysAccept4 waits for a connection and gives it a descriptor (Linux:
// __sys_accept4 → inet_accept → inet_csk_accept).
func (t *Thread) sysAccept4(fd int, addr, lenAddr uintptr, flags int) (uintptr, error) {
	if flags&^(sockNonblock|sockCloexec) != 0 {
		return 0, syscall.EINVAL
	}
	s, f, err := t.sockfdLookup(fd)
	if err != nil {
		return 0, err
	}
	defer f.Put()
	ns, err := s.AcceptFlags(t.task, f.Flags&fs.O_NONBLOCK != 0)
	if err != nil {
		return 0, sockErr(err)
	}
	// accept(2)'s address is known even when the peer reset the connection
	// before accept returned (getpeername says ENOTCONN by then).
	peer := ns.Sock().PeerAddr()
	nfd, err := t.sockMapFd(ns, flags)
	if err != nil {
		return 0, err
	}
	if err := t.writeSockaddr(peer, addr, lenAddr); err != nil {
		t.files().Close(int(nfd))
		return 0, err
	}
	return nfd, nil
}

// sysConnect connects (Linux: __sys_connect → inet_stream_connect →
// tcp_v4_connect); a non-blocking socket gets EINPROGRESS.
func (t *Thread) sysConnect(fd int, addr, addrlen uintptr) error {
	s, f, err := t.sockfdLookup(fd)
	if err != nil {
		return err
	}
	defer f.Put()
	ap, err := t.readSockaddr(addr, addrlen)
	if err != nil {
		return err
	}
	return sockErr(s.Connect(t.task, ap))
}

// gather copies the user's buffers into one (sendmsg's iovec).
func (t *Thread) gather(iov [][2]uintptr) ([]byte, error) {
	total := uintptr(0)
	for _, v := range iov {
		total += v[1]
	}
	if total > maxIO {
		total = maxIO // a partial send, as a full socket buffer would give
	}
	b := make([]byte, total)
	off := uintptr(0)
	for _, v := range iov {
		n := min(v[1], total-off)
		if err := t.Proc.MM().CopyFromUser(b[off:off+n], v[0]); err != nil {
			return nil, err
		}
		off += n
	}
	return b, nil
}

// scatter copies data into the user's buffers (recvmsg's iovec).
func (t *Thread) scatter(iov [][2]uintptr, data []byte) error {
	for _, v := range iov {
		n := min(v[1], uintptr(len(data)))
		if err := t.Proc.MM().CopyToUser(v[0], data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// sysSendto sends (Linux: __sys_sendto → sock_sendmsg). A stream socket
// whose connection is gone gets EPIPE and, without MSG_NOSIGNAL, SIGPIPE;
// a datagram socket after SHUT_WR only EPIPE.
func (t *Thread) sysSendto(fd int, iov [][2]uintptr, flags int, addr, addrlen uintptr) (uintptr, error) {
	s, f, err := t.sockfdLookup(fd)
	if err != nil {
		return 0, err
	}
	defer f.Put()
	var to netip.AddrPort
	if addr != 0 {
		if to, err = t.readSockaddr(addr, addrlen); err != nil {
			return 0, err
		}
	}
	b, err := t.gather(iov)
	if err != nil {
		return 0, err
	}
	if f.Flags&fs.O_NONBLOCK != 0 {
		flags |= inet.MsgDontWait
	}
	n, err := s.SendMsg(t.task, b, to, flags)
	if err != nil && n == 0 {
		// Linux raises SIGPIPE in sk_stream_error: for stream sockets only.
		if inet.Errno(err) == syscall.EPIPE && flags&inet.MsgNoSignal == 0 && s.Type() == inet.SockStream {
			t.sendSignal(sigInfo{signo: sigPIPE, code: siUser, pid: int32(t.Proc.PID)})
		}
		return 0, sockErr(err)
	}
	return uintptr(n), nil
}

// sysRecvfrom receives (Linux: __sys_recvfrom → sock_recvmsg) and reports
// the source address; it returns the length the protocol reported (more
// than was copied for a truncated datagram with MSG_TRUNC).
func (t *Thread) sysRecvfrom(fd int, iov [][2]uintptr, flags int, addr, lenAddr uintptr) (uintptr, bool, error) {
	s, f, err := t.sockfdLookup(fd)
	if err != nil {
		return 0, false, err
	}
	defer f.Put()
	total := uintptr(0)
	for _, v := range iov {
		total += v[1]
	}
	for _, v := range iov {
		if !t.Proc.MM().CheckAccess(v[0], min(v[1], maxIO), true) {
			return 0, false, syscall.EFAULT // before taking data: a bad buffer loses none
		}
	}
	if f.Flags&fs.O_NONBLOCK != 0 {
		flags |= inet.MsgDontWait
	}
	b := make([]byte, min(total, maxIO))
	n, from, mflags, err := s.RecvMsgFlags(t.task, b, flags)
	if err != nil {
		return 0, false, sockErr(err)
	}
	if err := t.scatter(iov, b[:min(n, len(b))]); err != nil {
		return 0, false, err
	}
	if s.Type() != inet.SockStream {
		if err := t.writeSockaddr(from, addr, lenAddr); err != nil {
			return 0, false, err
		}
	} else if addr != 0 && lenAddr != 0 {
		putU32(t.Proc.MM(), lenAddr, 0) // Linux: no address for a connected stream
	}
	return uintptr(n), mflags&inet.MsgTrunc != 0, nil
}

// msghdr is struct msghdr's fields.
type msghdr struct {
	name, namelen, iov, iovlen, control, controllen uintptr
}

func (t *Thread) readMsghdr(addr uintptr) (msghdr, [][2]uintptr, error) {
	var b [56]byte
	if err := t.Proc.MM().CopyFromUser(b[:], addr); err != nil {
		return msghdr{}, nil, err
	}
	le := binary.LittleEndian
	h := msghdr{uintptr(le.Uint64(b[0:])), uintptr(le.Uint32(b[8:])), uintptr(le.Uint64(b[16:])),
		uintptr(le.Uint64(b[24:])), uintptr(le.Uint64(b[32:])), uintptr(le.Uint64(b[40:]))}
	iov, err := t.readIovec(h.iov, int(h.iovlen))
	return h, iov, err
}

// sysSendmsg: Linux ___sys_sendmsg (no ancillary data is sent).
func (t *Thread) sysSendmsg(fd int, msg uintptr, flags int) (uintptr, error) {
	h, iov, err := t.readMsghdr(msg)
	if err != nil {
		return 0, err
	}
	return t.sysSendto(fd, iov, flags, h.name, h.namelen)
}

// sysRecvmsg: Linux ___sys_recvmsg. msg_controllen comes back 0 (no
// ancillary data), msg_flags says MSG_TRUNC for a cut datagram.
func (t *Thread) sysRecvmsg(fd int, msg uintptr, flags int) (uintptr, error) {
	h, iov, err := t.readMsghdr(msg)
	if err != nil {
		return 0, err
	}
	var lenAddr uintptr
	if h.name != 0 {
		lenAddr = msg + 8
	}
	n, trunc, err := t.sysRecvfrom(fd, iov, flags, h.name, lenAddr)
	if err != nil {
		return 0, err
	}
	m := t.Proc.MM()
	var z [8]byte
	if err := m.CopyToUser(msg+40, z[:]); err != nil {
		return 0, err
	}
	mflags := uint32(0)
	if trunc {
		mflags = inet.MsgTrunc
	}
	if err := putU32(m, msg+48, mflags); err != nil {
		return 0, err
	}
	if trunc && flags&inet.MsgTrunc == 0 {
		var total uintptr
		for _, v := range iov {
			total += v[1]
		}
		n = min(n, total)
	}
	return n, nil
}

func sysShutdown(t *Thread, a args) (uintptr, error) {
	s, f, err := t.sockfdLookup(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	if a[1] > 2 {
		return 0, syscall.EINVAL
	}
	return 0, sockErr(s.Shutdown(int(a[1])))
}

// getName serves getsockname and getpeername (Linux: inet_getname).
func (t *Thread) getName(fd int, addr, lenAddr uintptr, peer bool) error {
	s, f, err := t.sockfdLookup(fd)
	if err != nil {
		return err
	}
	defer f.Put()
	ap := s.GetSockName()
	if peer {
		if ap, err = s.GetPeerName(); err != nil {
			return sockErr(err)
		}
	}
	if lenAddr == 0 {
		return syscall.EFAULT
	}
	if s.Family() == inet.AFUnix {
		return t.writeUnnamed(addr, lenAddr) // Linux: unix_getname of an unbound socket
	}
	return t.writeSockaddr(ap, addr, lenAddr)
}

// writeUnnamed stores an AF_UNIX address without a name: the family
// alone, length 2.
func (t *Thread) writeUnnamed(addr, lenAddr uintptr) error {
	var fam [2]byte
	binary.LittleEndian.PutUint16(fam[:], inet.AFUnix)
	return t.moveAddrToUser(fam[:], addr, lenAddr)
}

// Socket options beyond the integer ones inet maps.
const (
	soType        = 3
	soAcceptConn  = 30
	soProtocol    = 38
	soDomain      = 39
	tcpInfoOpt    = 11
	ipprotoTCPNum = 6
)

func sysSetsockopt(t *Thread, a args) (uintptr, error) {
	s, f, err := t.sockfdLookup(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	level, name, val, size := int(a[1]), int(a[2]), a[3], a[4]
	m := t.Proc.MM()
	switch {
	case level == inet.SolSocket && name == inet.SoLinger:
		if size < 8 {
			return 0, syscall.EINVAL
		}
		var b [8]byte
		if err := m.CopyFromUser(b[:], val); err != nil {
			return 0, err
		}
		s.SetLinger(binary.LittleEndian.Uint32(b[:]) != 0, time.Duration(int32(binary.LittleEndian.Uint32(b[4:])))*time.Second)
		return 0, nil
	case level == inet.SolSocket && (name == inet.SoRcvTimeo || name == inet.SoSndTimeo):
		if size < 16 {
			return 0, syscall.EINVAL
		}
		var b [16]byte
		if err := m.CopyFromUser(b[:], val); err != nil {
			return 0, err
		}
		return 0, sockErr(s.SetTimeout(name, readTimeval(b[:])))
	case level == ipprotoTCPNum && name == inet.TCPCongestion:
		name, err := m.StrncpyFromUser(val, min(int(size), 16))
		if err != nil {
			return 0, err
		}
		return 0, sockErr(s.SetSockOptString(level, inet.TCPCongestion, name))
	}
	if size < 4 {
		return 0, syscall.EINVAL
	}
	var b [4]byte
	if err := m.CopyFromUser(b[:], val); err != nil {
		return 0, err
	}
	return 0, sockErr(s.SetSockOpt(level, name, int(int32(binary.LittleEndian.Uint32(b[:])))))
}

func sysGetsockopt(t *Thread, a args) (uintptr, error) {
	s, f, err := t.sockfdLookup(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	level, name, val, lenAddr := int(a[1]), int(a[2]), a[3], a[4]
	m := t.Proc.MM()
	var lb [4]byte
	if err := m.CopyFromUser(lb[:], lenAddr); err != nil {
		return 0, err
	}
	have := int(int32(binary.LittleEndian.Uint32(lb[:])))
	if have < 0 {
		return 0, syscall.EINVAL
	}
	out, err := sockoptValue(s, level, name)
	if err != nil {
		return 0, err
	}
	n := min(have, len(out))
	if err := m.CopyToUser(val, out[:n]); err != nil {
		return 0, err
	}
	return 0, putU32(m, lenAddr, uint32(n))
}

// sockoptValue encodes an option's value as getsockopt returns it.
func sockoptValue(s *inet.Socket, level, name int) ([]byte, error) {
	le := binary.LittleEndian
	i32 := func(v int) []byte { return le.AppendUint32(nil, uint32(v)) }
	switch {
	case level == inet.SolSocket && name == soType:
		return i32(s.Type()), nil
	case level == inet.SolSocket && name == soDomain:
		return i32(s.Family()), nil
	case level == inet.SolSocket && name == soProtocol:
		if s.Family() == inet.AFUnix {
			return i32(0), nil
		}
		if s.Type() == inet.SockStream {
			return i32(ipprotoTCPNum), nil
		}
		return i32(17), nil
	case level == inet.SolSocket && name == soAcceptConn:
		if s.Type() == inet.SockStream && s.Sock() != nil && s.Sock().State() == tcp.StateListen {
			return i32(1), nil
		}
		return i32(0), nil
	case level == inet.SolSocket && name == inet.SoLinger:
		on, d := s.GetLinger()
		b := i32(0)
		if on {
			b = i32(1)
		}
		return le.AppendUint32(b, uint32(d/time.Second)), nil
	case level == inet.SolSocket && (name == inet.SoRcvTimeo || name == inet.SoSndTimeo):
		d, err := s.GetTimeout(name)
		if err != nil {
			return nil, sockErr(err)
		}
		b := make([]byte, 16)
		putTimeval(b, d)
		return b, nil
	case level == ipprotoTCPNum && name == tcpInfoOpt:
		if s.Type() != inet.SockStream || s.Sock() == nil {
			return nil, syscall.EOPNOTSUPP
		}
		info := s.Sock().Info(time.Now())
		return info[:], nil
	case level == ipprotoTCPNum && name == inet.TCPCongestion:
		name, err := s.GetSockOptString(level, name)
		if err != nil {
			return nil, sockErr(err)
		}
		b := make([]byte, 16)
		copy(b, name)
		return b, nil
	}
	v, err := s.GetSockOpt(level, name)
	if err != nil {
		return nil, sockErr(err)
	}
	return i32(v), nil
}
