package proc

import (
	"encoding/binary"
	"syscall"

	"gomenuos/sched"
)

// Signal system calls (Linux: kernel/signal.c).

func init() {
	register(13, "rt_sigaction", sysRtSigaction)
	register(14, "rt_sigprocmask", sysRtSigprocmask)
	register(15, "rt_sigreturn", sysRtSigreturn)
	register(34, "pause", sysPause)
	register(62, "kill", func(t *Thread, a args) (uintptr, error) { return 0, kill(t.Proc, int(int32(a[0])), int(a[1])) })
	register(127, "rt_sigpending", sysRtSigpending)
	register(130, "rt_sigsuspend", sysRtSigsuspend)
	register(131, "sigaltstack", sysSigaltstack)
	register(200, "tkill", func(t *Thread, a args) (uintptr, error) { return 0, tgkill(t, -1, int(a[0]), int(a[1])) })
	register(234, "tgkill", func(t *Thread, a args) (uintptr, error) {
		return 0, tgkill(t, int(int32(a[0])), int(int32(a[1])), int(a[2]))
	})
}

func sysRtSigaction(t *Thread, a args) (uintptr, error) {
	sig, act, old := int(a[0]), a[1], a[2]
	if sig < 1 || sig > nSig || a[3] != 8 {
		return 0, syscall.EINVAL
	}
	if act != 0 && (sig == sigKILL || sig == sigSTOP) {
		return 0, syscall.EINVAL
	}
	m := t.Proc.MM()
	var nb [32]byte
	if act != 0 {
		if err := m.CopyFromUser(nb[:], act); err != nil {
			return 0, err
		}
	}
	h := t.Proc.sig
	h.mu.Lock()
	prev := h.act[sig]
	if act != 0 {
		le := binary.LittleEndian
		h.act[sig] = sigaction{le.Uint64(nb[0:]), le.Uint64(nb[8:]), le.Uint64(nb[16:]), le.Uint64(nb[24:]) &^ unblockable}
	}
	h.mu.Unlock()
	if act != 0 && t.Proc.ignored(sig) {
		t.Proc.discard(sig) // Linux: a newly ignored signal's pending instances go
	}
	if old != 0 {
		var ob [32]byte
		le := binary.LittleEndian
		le.PutUint64(ob[0:], prev.handler)
		le.PutUint64(ob[8:], prev.flags)
		le.PutUint64(ob[16:], prev.restorer)
		le.PutUint64(ob[24:], prev.mask)
		if err := m.CopyToUser(old, ob[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// discard drops pending instances of sig from the process and its threads.
func (p *Process) discard(sig int) {
	p.mu.Lock()
	p.pending.set &^= sigbit(sig)
	threads := append([]*Thread(nil), p.threads...)
	p.mu.Unlock()
	for _, t := range threads {
		t.sigMu.Lock()
		t.pending.set &^= sigbit(sig)
		t.sigMu.Unlock()
	}
}

func sysRtSigprocmask(t *Thread, a args) (uintptr, error) {
	how, set, old := int(a[0]), a[1], a[2]
	if a[3] != 8 {
		return 0, syscall.EINVAL
	}
	m := t.Proc.MM()
	var nb [8]byte
	if set != 0 {
		if err := m.CopyFromUser(nb[:], set); err != nil {
			return 0, err
		}
	}
	t.sigMu.Lock()
	prev := t.mask
	if set != 0 {
		v := binary.LittleEndian.Uint64(nb[:]) &^ unblockable
		switch how {
		case 0: // SIG_BLOCK
			t.mask |= v
		case 1: // SIG_UNBLOCK
			t.mask &^= v
		case 2: // SIG_SETMASK
			t.mask = v
		default:
			t.sigMu.Unlock()
			return 0, syscall.EINVAL
		}
	}
	t.sigMu.Unlock()
	if old != 0 {
		var ob [8]byte
		binary.LittleEndian.PutUint64(ob[:], prev)
		if err := m.CopyToUser(old, ob[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysRtSigpending(t *Thread, a args) (uintptr, error) {
	t.sigMu.Lock()
	set := t.pending.set
	mask := t.mask
	t.sigMu.Unlock()
	t.Proc.mu.Lock()
	set |= t.Proc.pending.set
	t.Proc.mu.Unlock()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], set&mask)
	return 0, t.Proc.MM().CopyToUser(a[0], b[:])
}

// waitForSignal sleeps until a signal is deliverable; the call then ends
// with EINTR once the handler has run (Linux: ERESTARTNOHAND).
func (t *Thread) waitForSignal() error {
	var wq sched.WaitQueue
	wq.WaitEventInterruptible(t.task, func() bool { return false })
	return errRestartNoHand
}

func sysPause(t *Thread, _ args) (uintptr, error) { return 0, t.waitForSignal() }

// sysRtSigsuspend waits with a temporary mask; the old mask comes back
// when the handler returns (it is the one saved in the signal frame).
func sysRtSigsuspend(t *Thread, a args) (uintptr, error) {
	if a[1] != 8 {
		return 0, syscall.EINVAL
	}
	var b [8]byte
	if err := t.Proc.MM().CopyFromUser(b[:], a[0]); err != nil {
		return 0, err
	}
	t.sigMu.Lock()
	saved := t.mask
	t.mask = binary.LittleEndian.Uint64(b[:]) &^ unblockable
	t.sigMu.Unlock()
	t.recalcSigPending()
	t.waitForSignal()
	t.savedMask, t.restoreMask = saved, true
	return 0, errRestartNoHand
}

func sysSigaltstack(t *Thread, a args) (uintptr, error) {
	ss, old := a[0], a[1]
	m := t.Proc.MM()
	t.sigMu.Lock()
	sp, size, off := t.altSP, t.altSize, t.altOff
	onStack := !off && uintptr(t.ctx.Regs.RSP)-sp < size
	t.sigMu.Unlock()
	if old != 0 {
		var b [24]byte
		flags := uint32(0)
		switch {
		case off:
			flags = ssDisable
		case onStack:
			flags = ssOnStack
		}
		binary.LittleEndian.PutUint64(b[0:], uint64(sp))
		binary.LittleEndian.PutUint32(b[8:], flags)
		binary.LittleEndian.PutUint64(b[16:], uint64(size))
		if err := m.CopyToUser(old, b[:]); err != nil {
			return 0, err
		}
	}
	if ss == 0 {
		return 0, nil
	}
	var b [24]byte
	if err := m.CopyFromUser(b[:], ss); err != nil {
		return 0, err
	}
	if onStack {
		return 0, syscall.EPERM
	}
	flags := binary.LittleEndian.Uint32(b[8:])
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	switch {
	case flags&ssDisable != 0:
		t.altSP, t.altSize, t.altOff = 0, 0, true
	case flags != 0:
		return 0, syscall.EINVAL
	default:
		nsize := uintptr(binary.LittleEndian.Uint64(b[16:]))
		if nsize < 2048 { // MINSIGSTKSZ
			return 0, syscall.ENOMEM
		}
		t.altSP, t.altSize, t.altOff = uintptr(binary.LittleEndian.Uint64(b[0:])), nsize, false
	}
	return 0, nil
}

// tgkill sends sig to thread tid of process tgid (-1: any process).
func tgkill(from *Thread, tgid, tid, sig int) error {
	if sig < 0 || sig > nSig || tid <= 0 {
		return syscall.EINVAL
	}
	for _, p := range All() {
		if tgid > 0 && p.PID != tgid {
			continue
		}
		for _, t := range p.threadsSnapshot() {
			if t.TID == tid {
				if sig != 0 {
					t.sendSignal(sigInfo{signo: int32(sig), code: siTkill, pid: int32(from.Proc.PID)})
				}
				return nil
			}
		}
	}
	return syscall.ESRCH
}
