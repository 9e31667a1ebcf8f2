package inet

import (
	"errors"
	"syscall"

	"gomenuos/fs"
	"gomenuos/net/tcp"
	"gomenuos/sched"
)

// Errno maps an error from the socket layer to the Linux errno a system
// call returns: TCP's typed errors, wait errors (ERESTARTSYS, ETIMEDOUT),
// fs errnos (EMFILE, EBADF...) and syscall.Errno pass through; anything
// else is EIO. nil maps to 0.
func Errno(err error) syscall.Errno {
	var te *tcp.Error
	var se syscall.Errno
	var we sched.Errno
	var fe fs.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &te):
		return te.Errno
	case errors.As(err, &se):
		return se
	case errors.As(err, &we):
		return syscall.Errno(we)
	case errors.As(err, &fe):
		return syscall.Errno(fe)
	}
	return syscall.EIO
}
