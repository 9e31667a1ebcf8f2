package proc

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gomenuos/kernel/mm"
	"gomenuos/sched"
)

// Futexes (Linux: kernel/futex/). A private futex is named by its address
// space and address; a shared one (no FUTEX_PRIVATE_FLAG) by the physical
// address of the word, so processes mapping the same page (MAP_SHARED
// across fork) meet on it.

func init() {
	register(202, "futex", sysFutex)
}

// futex operations.
const (
	futexWait          = 0
	futexWakeOpc       = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivateFlag   = 128
	futexClockRealtime = 256
	futexBitsetAll     = 0xffffffff
)

type futexKey struct {
	mm   *mm.MM // nil for a shared futex
	addr uintptr
}

// futexWaiter is one sleeper (Linux: struct futex_q).
type futexWaiter struct {
	key    futexKey
	bitset uint32
	woken  atomic.Bool
	wq     sched.WaitQueue
}

// futexes holds the sleepers by key (Linux: the futex hash buckets,
// collapsed to one lock).
var futexes struct {
	mu sync.Mutex
	q  map[futexKey][]*futexWaiter
}

func init() { futexes.q = map[futexKey][]*futexWaiter{} }

// key names the futex word at addr for this thread's process.
func (t *Thread) futexKey(addr uintptr, private bool) (futexKey, error) {
	if addr%4 != 0 {
		return futexKey{}, syscall.EINVAL
	}
	m := t.Proc.MM()
	if private {
		return futexKey{m, addr}, nil
	}
	pa, err := m.PhysAddr(addr)
	if err != nil {
		return futexKey{}, err
	}
	return futexKey{nil, pa}, nil
}

func readFutexWord(t *Thread, addr uintptr) (uint32, error) {
	var b [4]byte
	if err := t.Proc.MM().CopyFromUser(b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

func sysFutex(t *Thread, a args) (uintptr, error) {
	addr, op, val, timeout, addr2, val3 := a[0], int(a[1]), uint32(a[2]), a[3], a[4], uint32(a[5])
	private := op&futexPrivateFlag != 0
	switch op &^ (futexPrivateFlag | futexClockRealtime) {
	case futexWait:
		return 0, t.futexWait(addr, val, timeout, false, futexBitsetAll, private)
	case futexWaitBitset:
		if val3 == 0 {
			return 0, syscall.EINVAL
		}
		return 0, t.futexWait(addr, val, timeout, true, val3, private)
	case futexWakeOpc:
		return futexWakeN(t, addr, int(val), futexBitsetAll, private)
	case futexWakeBitset:
		if val3 == 0 {
			return 0, syscall.EINVAL
		}
		return futexWakeN(t, addr, int(val), val3, private)
	case futexRequeue, futexCmpRequeue:
		return t.futexRequeue(addr, addr2, int(val), int(timeout), op&^(futexPrivateFlag|futexClockRealtime) == futexCmpRequeue, val3, private)
	case futexWakeOp:
		return t.futexWakeOp(addr, addr2, int(val), int(timeout), val3, private)
	}
	return 0, syscall.ENOSYS
}

// futexWait sleeps while *addr == val (Linux: futex_wait). The timeout is
// relative, or absolute on CLOCK_MONOTONIC/REALTIME for WAIT_BITSET.
func (t *Thread) futexWait(addr uintptr, val uint32, timeout uintptr, abs bool, bitset uint32, private bool) error {
	key, err := t.futexKey(addr, private)
	if err != nil {
		return err
	}
	var d time.Duration = -1
	if timeout != 0 {
		if d, err = readTimespec(t, timeout); err != nil {
			return err
		}
		if abs {
			now, _ := clockNow(t, 1)
			d -= now
		}
		if d <= 0 {
			return syscall.ETIMEDOUT
		}
	}
	w := &futexWaiter{key: key, bitset: bitset}
	futexes.mu.Lock()
	cur, err := readFutexWord(t, addr)
	if err != nil || cur != val {
		futexes.mu.Unlock()
		if err != nil {
			return err
		}
		return syscall.EAGAIN
	}
	futexes.q[key] = append(futexes.q[key], w)
	futexes.mu.Unlock()
	if d < 0 {
		err = w.wq.WaitEventInterruptible(t.task, w.woken.Load)
	} else {
		_, err = w.wq.WaitEventInterruptibleTimeout(t.task, w.woken.Load, d)
	}
	if err == nil {
		return nil
	}
	futexes.mu.Lock()
	removeWaiter(w)
	futexes.mu.Unlock()
	if w.woken.Load() {
		return nil // woken as the wait gave up: the wake-up counts
	}
	if err == sched.ErrTimedOut {
		return syscall.ETIMEDOUT
	}
	return errRestartSys
}

func removeWaiter(w *futexWaiter) {
	q := futexes.q[w.key]
	for i, x := range q {
		if x == w {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	if len(q) == 0 {
		delete(futexes.q, w.key)
	} else {
		futexes.q[w.key] = q
	}
}

// wakeLocked wakes up to n waiters on key whose bitset matches.
func wakeLocked(key futexKey, n int, bitset uint32) int {
	woken := 0
	for _, w := range append([]*futexWaiter(nil), futexes.q[key]...) {
		if woken >= n {
			break
		}
		if w.bitset&bitset == 0 {
			continue
		}
		removeWaiter(w)
		w.woken.Store(true)
		w.wq.WakeUp()
		woken++
	}
	return woken
}

func futexWakeN(t *Thread, addr uintptr, n int, bitset uint32, private bool) (uintptr, error) {
	key, err := t.futexKey(addr, private)
	if err != nil {
		return 0, err
	}
	futexes.mu.Lock()
	defer futexes.mu.Unlock()
	return uintptr(wakeLocked(key, n, bitset)), nil
}

// futexWake is the wake of CLONE_CHILD_CLEARTID at thread exit.
func futexWake(t *Thread, addr uintptr, n int, private bool) {
	futexWakeN(t, addr, n, futexBitsetAll, private)
}

// futexRequeue wakes n waiters of addr and moves up to n2 others to addr2
// (Linux: futex_requeue); the CMP form first checks *addr == val3.
func (t *Thread) futexRequeue(addr, addr2 uintptr, n, n2 int, cmp bool, val3 uint32, private bool) (uintptr, error) {
	k1, err := t.futexKey(addr, private)
	if err != nil {
		return 0, err
	}
	k2, err := t.futexKey(addr2, private)
	if err != nil {
		return 0, err
	}
	futexes.mu.Lock()
	defer futexes.mu.Unlock()
	if cmp {
		cur, err := readFutexWord(t, addr)
		if err != nil {
			return 0, err
		}
		if cur != val3 {
			return 0, syscall.EAGAIN
		}
	}
	woken := wakeLocked(k1, n, futexBitsetAll)
	moved := 0
	for _, w := range append([]*futexWaiter(nil), futexes.q[k1]...) {
		if moved >= n2 {
			break
		}
		removeWaiter(w)
		w.key = k2
		futexes.q[k2] = append(futexes.q[k2], w)
		moved++
	}
	return uintptr(woken + moved), nil
}

// futexWakeOp does *addr2 = op(*addr2, oparg), wakes n on addr, and n2 on
// addr2 if the old value passes the comparison (Linux: futex_wake_op).
func (t *Thread) futexWakeOp(addr, addr2 uintptr, n, n2 int, enc uint32, private bool) (uintptr, error) {
	k1, err := t.futexKey(addr, private)
	if err != nil {
		return 0, err
	}
	k2, err := t.futexKey(addr2, private)
	if err != nil {
		return 0, err
	}
	futexes.mu.Lock()
	defer futexes.mu.Unlock()
	old, err := readFutexWord(t, addr2)
	if err != nil {
		return 0, err
	}
	op, cmp := enc>>28&7, enc>>24&15
	oparg, cmparg := enc>>12&0xfff, enc&0xfff
	if enc>>31 != 0 { // FUTEX_OP_OPARG_SHIFT
		oparg = 1 << (oparg & 31)
	}
	nv := old
	switch op & 7 {
	case 0:
		nv = oparg
	case 1:
		nv = old + oparg
	case 2:
		nv = old | oparg
	case 3:
		nv = old &^ oparg
	case 4:
		nv = old ^ oparg
	}
	if err := putU32(t.Proc.MM(), addr2, nv); err != nil {
		return 0, err
	}
	woken := wakeLocked(k1, n, futexBitsetAll)
	ok := false
	switch cmp {
	case 0:
		ok = old == cmparg
	case 1:
		ok = old != cmparg
	case 2:
		ok = int32(old) < int32(cmparg)
	case 3:
		ok = int32(old) <= int32(cmparg)
	case 4:
		ok = int32(old) > int32(cmparg)
	case 5:
		ok = int32(old) >= int32(cmparg)
	}
	if ok {
		woken += wakeLocked(k2, n2, futexBitsetAll)
	}
	return uintptr(woken), nil
}
