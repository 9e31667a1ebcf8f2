package fs

import (
	"errors"
	"strconv"

	"gomenuos/sched"
)

// Errno is a file-system error numbered as Linux numbers it; Error gives
// Linux's strerror text so the shell can print "No such file or directory".
type Errno uintptr

// The errors the VFS and its file systems return (Linux asm-generic/errno-base.h).
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	EIO          Errno = 5
	ENXIO        Errno = 6
	EBADF        Errno = 9
	EAGAIN       Errno = 11
	EACCES       Errno = 13
	EBUSY        Errno = 16
	EEXIST       Errno = 17
	EXDEV        Errno = 18
	ENODEV       Errno = 19
	ENOTDIR      Errno = 20
	EISDIR       Errno = 21
	EINVAL       Errno = 22
	EMFILE       Errno = 24
	ENOTTY       Errno = 25
	EFBIG        Errno = 27
	ENOSPC       Errno = 28
	ESPIPE       Errno = 29
	EROFS        Errno = 30
	EPIPE        Errno = 32
	ENAMETOOLONG Errno = 36
	ENOTEMPTY    Errno = 39
	ELOOP        Errno = 40
	ENOTSOCK     Errno = 88
	ETIMEDOUT    Errno = 110
	ERESTARTSYS  Errno = 512
)

var errText = map[Errno]string{
	EPERM:        "Operation not permitted",
	ENOENT:       "No such file or directory",
	EIO:          "Input/output error",
	ENXIO:        "No such device or address",
	EBADF:        "Bad file descriptor",
	EAGAIN:       "Resource temporarily unavailable",
	EACCES:       "Permission denied",
	EBUSY:        "Device or resource busy",
	EEXIST:       "File exists",
	EXDEV:        "Invalid cross-device link",
	ENODEV:       "No such device",
	ENOTDIR:      "Not a directory",
	EISDIR:       "Is a directory",
	EINVAL:       "Invalid argument",
	EMFILE:       "Too many open files",
	ENOTTY:       "Inappropriate ioctl for device",
	EFBIG:        "File too large",
	ENOSPC:       "No space left on device",
	ESPIPE:       "Illegal seek",
	EROFS:        "Read-only file system",
	EPIPE:        "Broken pipe",
	ENAMETOOLONG: "File name too long",
	ENOTEMPTY:    "Directory not empty",
	ELOOP:        "Too many levels of symbolic links",
	ENOTSOCK:     "Socket operation on non-socket",
	ETIMEDOUT:    "Connection timed out",
	ERESTARTSYS:  "Interrupted",
}

func (e Errno) Error() string {
	if s, ok := errText[e]; ok {
		return s
	}
	return "Unknown error " + strconv.Itoa(int(e))
}

// ToErrno gives the errno for err: fs and sched errnos keep their number,
// nil is 0 and anything else is EIO.
func ToErrno(err error) Errno {
	var fe Errno
	var se sched.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &se):
		return Errno(se)
	}
	return EIO
}
