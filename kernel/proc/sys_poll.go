package proc

import (
	"encoding/binary"
	"syscall"
	"time"

	"gomenuos/fs"
	"gomenuos/sched"
)

// poll, select and pipes (Linux: fs/select.c, fs/pipe.c).

func init() {
	register(7, "poll", func(t *Thread, a args) (uintptr, error) {
		timeout := time.Duration(-1)
		if ms := int(int32(a[2])); ms >= 0 {
			timeout = time.Duration(ms) * time.Millisecond
		}
		return t.poll(a[0], int(a[1]), timeout)
	})
	register(271, "ppoll", sysPpoll)
	register(23, "select", sysSelect)
	register(270, "pselect6", sysPselect6)
	register(22, "pipe", func(t *Thread, a args) (uintptr, error) { return 0, t.pipe(a[0], 0) })
	register(293, "pipe2", func(t *Thread, a args) (uintptr, error) { return 0, t.pipe(a[0], int(a[1])) })
}

// Poll events (Linux: include/uapi/asm-generic/poll.h).
const (
	pollIn     = 0x1
	pollPri    = 0x2
	pollOut    = 0x4
	pollErr    = 0x8
	pollHup    = 0x10
	pollNval   = 0x20
	pollRdNorm = 0x40
	pollWrNorm = 0x100
)

// pollEntry is one descriptor being polled.
type pollEntry struct {
	fd      int
	events  uint16 // asked for
	revents uint16 // found
	file    *fs.File
}

// revents computes what a file reports now for the events asked.
func (e *pollEntry) check() bool {
	if e.file == nil {
		e.revents = pollNval
		return e.fd >= 0
	}
	m := uint16(e.file.Poll())
	if m&pollIn != 0 {
		m |= pollRdNorm
	}
	if m&pollOut != 0 {
		m |= pollWrNorm
	}
	e.revents = m & (e.events | pollErr | pollHup)
	return e.revents != 0
}

// doPoll waits until one entry is ready, a signal comes, or timeout
// passes (negative: forever). It returns how many entries are ready.
func (t *Thread) doPoll(es []pollEntry, timeout time.Duration) (int, error) {
	var queues []*sched.WaitQueue
	for i := range es {
		if es[i].fd < 0 {
			continue
		}
		f, err := t.file(es[i].fd)
		if err != nil {
			continue
		}
		defer f.Put()
		es[i].file = f
		if pw, ok := f.Ops().(fs.PollWaiter); ok {
			queues = append(queues, pw.PollQueues(f)...)
		}
	}
	ready := 0
	scan := func() bool {
		ready = 0
		for i := range es {
			if es[i].check() {
				ready++
			}
		}
		return ready > 0
	}
	if scan() || timeout == 0 {
		return ready, nil
	}
	err := sched.WaitMany(t.task, queues, scan, timeout)
	switch err {
	case nil:
		return ready, nil
	case sched.ErrTimedOut:
		return 0, nil
	}
	return 0, errRestartNoHand
}

// poll reads the pollfd array, polls and writes revents back.
func (t *Thread) poll(addr uintptr, n int, timeout time.Duration) (uintptr, error) {
	if n < 0 || n > 1024*64 {
		return 0, syscall.EINVAL
	}
	m := t.Proc.MM()
	b := make([]byte, 8*n)
	if err := m.CopyFromUser(b, addr); err != nil {
		return 0, err
	}
	es := make([]pollEntry, n)
	for i := range es {
		es[i] = pollEntry{fd: int(int32(binary.LittleEndian.Uint32(b[8*i:]))), events: binary.LittleEndian.Uint16(b[8*i+4:])}
	}
	ready, err := t.doPoll(es, timeout)
	if err != nil {
		return 0, err
	}
	for i := range es {
		binary.LittleEndian.PutUint16(b[8*i+6:], es[i].revents)
	}
	return uintptr(ready), m.CopyToUser(addr, b)
}

// withSigmask runs fn with a temporary signal mask (ppoll, pselect6); the
// old one comes back after a handler runs, as with rt_sigsuspend.
func (t *Thread) withSigmask(maskAddr, size uintptr, fn func() (uintptr, error)) (uintptr, error) {
	if maskAddr == 0 {
		return fn()
	}
	if size != 8 {
		return 0, syscall.EINVAL
	}
	var b [8]byte
	if err := t.Proc.MM().CopyFromUser(b[:], maskAddr); err != nil {
		return 0, err
	}
	t.sigMu.Lock()
	saved := t.mask
	t.mask = binary.LittleEndian.Uint64(b[:]) &^ unblockable
	t.sigMu.Unlock()
	t.recalcSigPending()
	r, err := fn()
	if err == errRestartNoHand {
		t.savedMask, t.restoreMask = saved, true
		return r, syscall.EINTR // the handler runs under the temporary mask
	}
	t.sigMu.Lock()
	t.mask = saved
	t.sigMu.Unlock()
	return r, err
}

func (t *Thread) timespecTimeout(addr uintptr) (time.Duration, error) {
	if addr == 0 {
		return -1, nil
	}
	return readTimespec(t, addr)
}

func sysPpoll(t *Thread, a args) (uintptr, error) {
	timeout, err := t.timespecTimeout(a[2])
	if err != nil {
		return 0, err
	}
	return t.withSigmask(a[3], a[4], func() (uintptr, error) { return t.poll(a[0], int(a[1]), timeout) })
}

// fdSet is a select(2) bitmap.
type fdSet []byte

func (s fdSet) has(fd int) bool { return s != nil && s[fd/8]&(1<<(fd%8)) != 0 }

func (t *Thread) readFdSet(addr uintptr, n int) (fdSet, error) {
	if addr == 0 {
		return nil, nil
	}
	b := make(fdSet, (n+63)/64*8)
	return b, t.Proc.MM().CopyFromUser(b, addr)
}

// doSelect is select over poll: each set bit becomes an entry; ready
// entries set the bits they answer (Linux: core_sys_select → do_select).
func (t *Thread) doSelect(n int, rAddr, wAddr, eAddr uintptr, timeout time.Duration) (uintptr, error) {
	if n < 0 || n > 1024 {
		return 0, syscall.EINVAL
	}
	sets := [3]fdSet{}
	addrs := [3]uintptr{rAddr, wAddr, eAddr}
	for i, a := range addrs {
		s, err := t.readFdSet(a, n)
		if err != nil {
			return 0, err
		}
		sets[i] = s
	}
	var es []pollEntry
	for fd := 0; fd < n; fd++ {
		var ev uint16
		if sets[0].has(fd) {
			ev |= pollIn
		}
		if sets[1].has(fd) {
			ev |= pollOut
		}
		if sets[2].has(fd) {
			ev |= pollPri
		}
		if ev != 0 {
			f, err := t.files().Get(fd)
			if err != nil {
				return 0, syscall.EBADF
			}
			f.Put()
			es = append(es, pollEntry{fd: fd, events: ev})
		}
	}
	if _, err := t.doPoll(es, timeout); err != nil {
		return 0, err
	}
	out := [3]fdSet{}
	for i, s := range sets {
		if s != nil {
			out[i] = make(fdSet, len(s))
		}
	}
	count := 0
	for _, e := range es {
		for i, bit := range []uint16{pollIn | pollHup | pollErr, pollOut | pollErr, pollPri} {
			if out[i] != nil && e.events&[]uint16{pollIn, pollOut, pollPri}[i] != 0 && e.revents&bit != 0 {
				out[i][e.fd/8] |= 1 << (e.fd % 8)
				count++
			}
		}
	}
	for i, a := range addrs {
		if a != 0 {
			if err := t.Proc.MM().CopyToUser(a, out[i]); err != nil {
				return 0, err
			}
		}
	}
	return uintptr(count), nil
}

func sysSelect(t *Thread, a args) (uintptr, error) {
	timeout := time.Duration(-1)
	if a[4] != 0 {
		var b [16]byte
		if err := t.Proc.MM().CopyFromUser(b[:], a[4]); err != nil {
			return 0, err
		}
		timeout = readTimeval(b[:])
	}
	return t.doSelect(int(a[0]), a[1], a[2], a[3], timeout)
}

func sysPselect6(t *Thread, a args) (uintptr, error) {
	timeout, err := t.timespecTimeout(a[4])
	if err != nil {
		return 0, err
	}
	var maskAddr, size uintptr
	if a[5] != 0 {
		var b [16]byte
		if err := t.Proc.MM().CopyFromUser(b[:], a[5]); err != nil {
			return 0, err
		}
		maskAddr, size = uintptr(binary.LittleEndian.Uint64(b[:])), uintptr(binary.LittleEndian.Uint64(b[8:]))
	}
	return t.withSigmask(maskAddr, size, func() (uintptr, error) { return t.doSelect(int(a[0]), a[1], a[2], a[3], timeout) })
}

// pipe makes a pipe and writes its two descriptors (Linux: do_pipe2).
func (t *Thread) pipe(addr uintptr, flags int) error {
	if flags&^(oCloexec|fs.O_NONBLOCK) != 0 {
		return syscall.EINVAL
	}
	r, w := fs.NewPipe(flags)
	ft := t.files()
	rfd, err := ft.InstallFrom(r, 0, flags&oCloexec != 0)
	if err != nil {
		r.Put()
		w.Put()
		return err
	}
	wfd, err := ft.InstallFrom(w, 0, flags&oCloexec != 0)
	if err != nil {
		ft.Close(rfd)
		w.Put()
		return err
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], uint32(rfd))
	binary.LittleEndian.PutUint32(b[4:], uint32(wfd))
	if err := t.Proc.MM().CopyToUser(addr, b[:]); err != nil {
		ft.Close(rfd)
		ft.Close(wfd)
		return err
	}
	return nil
}
