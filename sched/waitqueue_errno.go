package sched

import "strconv"

// Errno is why a wait ended without its condition, numbered as Linux
// numbers it so callers can hand it on as a syscall result.
type Errno uintptr

// The ways a wait can fail.
const (
	ETIMEDOUT   Errno = 110 // the timeout passed first
	ERESTARTSYS Errno = 512 // the task was interrupted (Linux-internal errno)
)

var (
	// ErrRestartSys: the waiting task was interrupted (Linux: -ERESTARTSYS).
	ErrRestartSys error = ERESTARTSYS
	// ErrTimedOut: the timeout passed before the condition held.
	ErrTimedOut error = ETIMEDOUT
)

func (e Errno) Error() string {
	switch e {
	case ETIMEDOUT:
		return "connection timed out"
	case ERESTARTSYS:
		return "interrupted (restart system call)"
	}
	return "errno " + strconv.Itoa(int(e))
}
