package udp

import "syscall"

// Errors returned by UDP socket operations: the Linux errnos themselves,
// which the socket layer hands to the system call unchanged.
var (
	ErrWouldBlock     error = syscall.EAGAIN
	ErrAddrInUse      error = syscall.EADDRINUSE
	ErrAddrNotAvail   error = syscall.EADDRNOTAVAIL
	ErrInvalid        error = syscall.EINVAL
	ErrNotConnected   error = syscall.ENOTCONN
	ErrDestAddrReq    error = syscall.EDESTADDRREQ
	ErrMsgSize        error = syscall.EMSGSIZE
	ErrAccess         error = syscall.EACCES
	ErrPipe           error = syscall.EPIPE
	ErrOpNotSupp      error = syscall.EOPNOTSUPP
	ErrAFNoSupport    error = syscall.EAFNOSUPPORT
	ErrNoProtoOpt     error = syscall.ENOPROTOOPT
	ErrNetUnreachable error = syscall.ENETUNREACH
	ErrNoBufs         error = syscall.ENOBUFS
)

// ipErrno maps an IPv4-layer error (stack.Error carries its errno) to the
// errno a sender sees; anything else becomes EIO.
func ipErrno(err error) error {
	if e, ok := err.(interface{ Errno() uintptr }); ok {
		return syscall.Errno(e.Errno())
	}
	return syscall.EIO
}
