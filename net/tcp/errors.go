package tcp

import "syscall"

// Error is a socket error carrying the Linux errno it maps to.
type Error struct {
	Errno syscall.Errno
	msg   string
}

func (e *Error) Error() string { return e.msg }

// Is lets errors.Is match an *Error against its errno.
func (e *Error) Is(target error) bool {
	errno, ok := target.(syscall.Errno)
	return ok && errno == e.Errno
}

// Errors returned by TCP socket operations; each maps to its errno.
var (
	ErrWouldBlock      = &Error{syscall.EAGAIN, "operation would block"}
	ErrInProgress      = &Error{syscall.EINPROGRESS, "operation now in progress"}
	ErrAlready         = &Error{syscall.EALREADY, "operation already in progress"}
	ErrConnRefused     = &Error{syscall.ECONNREFUSED, "connection refused"}
	ErrConnReset       = &Error{syscall.ECONNRESET, "connection reset by peer"}
	ErrTimedOut        = &Error{syscall.ETIMEDOUT, "connection timed out"}
	ErrAddrInUse       = &Error{syscall.EADDRINUSE, "address already in use"}
	ErrAddrNotAvail    = &Error{syscall.EADDRNOTAVAIL, "cannot assign requested address"}
	ErrPipe            = &Error{syscall.EPIPE, "broken pipe"}
	ErrInvalid         = &Error{syscall.EINVAL, "invalid argument"}
	ErrNotConnected    = &Error{syscall.ENOTCONN, "transport endpoint is not connected"}
	ErrIsConnected     = &Error{syscall.EISCONN, "transport endpoint is already connected"}
	ErrNoProtoOpt      = &Error{syscall.ENOPROTOOPT, "protocol not available"}
	ErrHostUnreachable = &Error{syscall.EHOSTUNREACH, "no route to host"}
	ErrNetUnreachable  = &Error{syscall.ENETUNREACH, "network is unreachable"}
	ErrMsgSize         = &Error{syscall.EMSGSIZE, "message too long"}
	ErrNoEnt           = &Error{syscall.ENOENT, "no such congestion control"}
)
