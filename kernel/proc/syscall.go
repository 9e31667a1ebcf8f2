package proc

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"gomenuos/fs"
	"gomenuos/sched"
)

// args are a system call's six arguments (RDI, RSI, RDX, R10, R8, R9).
type args [6]uintptr

// sysFunc serves one system call and returns its result or an error
// whose errno becomes the result.
type sysFunc func(t *Thread, a args) (uintptr, error)

// sysEntry is one row of the system call table.
type sysEntry struct {
	name string
	fn   sysFunc
}

// nrSyscalls bounds the table (the highest Linux x86-64 number we know
// of is below it).
const nrSyscalls = 512

// sysTable maps numbers to handlers (Linux: sys_call_table, generated
// from arch/x86/entry/syscalls/syscall_64.tbl). Families register their
// rows from init functions in their own files.
var sysTable [nrSyscalls]sysEntry

func register(nr int, name string, fn sysFunc) {
	if sysTable[nr].fn != nil {
		panic("proc: syscall " + name + " registered twice")
	}
	sysTable[nr] = sysEntry{name, fn}
}

// Internal errnos that never reach user space: the signal code turns them
// into a restart or EINTR (Linux: include/linux/errno.h).
const (
	errRestartSys     = syscall.Errno(512) // restart if the handler has SA_RESTART
	errRestartNoIntr  = syscall.Errno(513) // always restart
	errRestartNoHand  = syscall.Errno(514) // restart unless a handler ran
	errRestartBlock   = syscall.Errno(516) // restart_syscall (treated as NoHand)
	errNoReturnOfCall = syscall.Errno(0x7fff)
)

// errNoReturn is what rt_sigreturn and execve return: the registers are
// set already and RAX must not be touched.
var errNoReturn = errNoReturnOfCall

var unknown struct {
	mu     sync.Mutex
	logged [nrSyscalls]bool
}

// doSyscall64 serves the system call in the thread's saved registers (Linux:
// do_syscall_64 → x64_sys_call).
func (t *Thread) doSyscall64() {
	r := &t.ctx.Regs
	nr := r.RAX
	t.origRAX = nr
	a := args{uintptr(r.RDI), uintptr(r.RSI), uintptr(r.RDX), uintptr(r.R10), uintptr(r.R8), uintptr(r.R9)}
	var e sysEntry
	if nr < nrSyscalls {
		e = sysTable[nr]
	}
	if e.fn == nil {
		t.logUnknown(nr)
		r.RAX = negErrno(syscall.ENOSYS)
		return
	}
	Stats.Syscalls.Add(1)
	ret, err := e.fn(t, a)
	switch {
	case err == errNoReturn:
	case err != nil:
		r.RAX = negErrno(errnoOf(err))
	default:
		r.RAX = uint64(ret)
	}
	if Strace.Load() {
		fmt.Fprintf(os.Stderr, "[%d] %s(%#x, %#x, %#x, %#x) = %d\n", t.TID, e.name, a[0], a[1], a[2], a[3], int64(r.RAX))
	}
}

// Strace makes every system call of every process print a line on the
// console (the `strace` boot parameter): a poor man's strace(1).
var Strace atomic.Bool

func (t *Thread) logUnknown(nr uint64) {
	unknown.mu.Lock()
	first := nr >= nrSyscalls || !unknown.logged[nr]
	if nr < nrSyscalls {
		unknown.logged[nr] = true
	}
	unknown.mu.Unlock()
	if first {
		fmt.Fprintf(os.Stderr, "gomenuos: %s[%d]: unimplemented syscall %d (ENOSYS)\n", t.Proc.Comm(), t.Proc.PID, nr)
	}
}

func negErrno(e syscall.Errno) uint64 { return uint64(-int64(e)) }

// errnoOf maps the kernel's typed errors to errno numbers; anything
// untyped is EIO.
func errnoOf(err error) syscall.Errno {
	var se syscall.Errno
	var fe fs.Errno
	var we sched.Errno
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &fe):
		return syscall.Errno(fe)
	case errors.As(err, &we):
		return syscall.Errno(we)
	}
	var en interface{ Errno() uintptr }
	if errors.As(err, &en) {
		return syscall.Errno(en.Errno())
	}
	return syscall.EIO
}

// SyscallName returns the name of syscall nr in the table ("" if none).
func SyscallName(nr int) string {
	if nr < 0 || nr >= nrSyscalls {
		return ""
	}
	return sysTable[nr].name
}
