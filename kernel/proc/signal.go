package proc

import (
	"sync"
	"sync/atomic"
	"syscall"
)

// Signal numbers (Linux x86-64).
const (
	sigHUP    = 1
	sigINT    = 2
	sigQUIT   = 3
	sigILL    = 4
	sigTRAP   = 5
	sigABRT   = 6
	sigBUS    = 7
	sigFPE    = 8
	sigKILL   = 9
	sigUSR1   = 10
	sigSEGV   = 11
	sigUSR2   = 12
	sigPIPE   = 13
	sigALRM   = 14
	sigTERM   = 15
	sigCHLD   = 17
	sigCONT   = 18
	sigSTOP   = 19
	sigTSTP   = 20
	sigTTIN   = 21
	sigTTOU   = 22
	sigURG    = 23
	sigXCPU   = 24
	sigXFSZ   = 25
	sigVTALRM = 26
	sigPROF   = 27
	sigWINCH  = 28
	sigIO     = 29
	sigPWR    = 30
	sigSYS    = 31
	nSig      = 64
)

// Exported names for the shell and other kernel callers.
const (
	SIGINT  = sigINT
	SIGKILL = sigKILL
	SIGTERM = sigTERM
	SIGPIPE = sigPIPE
	SIGHUP  = sigHUP
)

// si_code values.
const (
	siUser     = 0
	siKernel   = 0x80
	siTkill    = -6
	segvMapErr = 1
	segvAccErr = 2
	fpeIntDiv  = 1
	illIllOpn  = 2
	cldExited  = 1
	cldKilled  = 2
	cldDumped  = 3
)

// Handler values and sigaction flags.
const (
	sigDFL      = 0
	sigIGN      = 1
	saNoCldWait = 0x2
	saSiginfo   = 0x4
	saOnStack   = 0x08000000
	saRestart   = 0x10000000
	saNoDefer   = 0x40000000
	saResetHand = 0x80000000
	ssOnStack   = 1
	ssDisable   = 2
)

var sigNames = [...]string{1: "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
	"SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
	"SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ",
	"SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"}

// SignalName returns "SIGINT" for 2, "SIG40" for a real-time signal.
func SignalName(sig int) string {
	if sig > 0 && sig < len(sigNames) {
		return sigNames[sig]
	}
	return "SIG" + itoa(sig)
}

// SignalNumber parses "INT", "SIGINT" or "2".
func SignalNumber(s string) (int, bool) {
	if n, err := atoi(s); err == nil && n > 0 && n <= nSig {
		return n, true
	}
	for i, name := range sigNames {
		if name != "" && (s == name || "SIG"+s == name) {
			return i, true
		}
	}
	return 0, false
}

func sigbit(sig int) uint64 { return 1 << (sig - 1) }

// unblockable signals can never be blocked or caught.
const unblockable = 1<<(sigKILL-1) | 1<<(sigSTOP-1)

// sigLock guards a thread's mask, pending signals and altstack. Every
// unlock bumps gen, and so do the senders of process-wide signals and
// kicks: the return to user mode skips its look for signals while gen
// has not moved since a look that found nothing (archDoSignalOrRestart).
type sigLock struct {
	sync.Mutex
	gen atomic.Uint32
}

func (l *sigLock) Unlock() {
	l.gen.Add(1)
	l.Mutex.Unlock()
}

// sigaction is a handler as rt_sigaction passes it.
type sigaction struct {
	handler, flags, restorer, mask uint64
}

// sigHand is a process's signal dispositions (Linux: sighand_struct),
// shared by threads and by CLONE_SIGHAND.
type sigHand struct {
	mu  sync.Mutex
	act [nSig + 1]sigaction
}

func (h *sigHand) get(sig int) sigaction {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.act[sig]
}

// clone copies the dispositions for a fork.
func (h *sigHand) clone() *sigHand {
	h.mu.Lock()
	defer h.mu.Unlock()
	return &sigHand{act: h.act}
}

// resetForExec sets caught signals back to default (Linux: flush_signal_handlers).
func (h *sigHand) resetForExec() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.act {
		if h.act[i].handler != sigIGN {
			h.act[i] = sigaction{}
		}
	}
}

// sigInfo is the siginfo a handler receives.
type sigInfo struct {
	signo, code int32
	pid, uid    int32
	status      int32
	addr        uint64
}

// sigPending is a set of pending signals with their siginfo (one instance
// per signal: standard signals do not queue).
type sigPending struct {
	set  uint64
	info [nSig + 1]sigInfo
}

func (s *sigPending) add(info sigInfo) {
	if s.set&sigbit(int(info.signo)) != 0 {
		return
	}
	s.set |= sigbit(int(info.signo))
	s.info[info.signo] = info
}

// take removes the lowest pending signal in allowed.
func (s *sigPending) take(allowed uint64) (sigInfo, bool) {
	ready := s.set & allowed
	if ready == 0 {
		return sigInfo{}, false
	}
	for sig := 1; sig <= nSig; sig++ {
		if ready&sigbit(sig) != 0 {
			s.set &^= sigbit(sig)
			return s.info[sig], true
		}
	}
	return sigInfo{}, false
}

// defaultAction classifies what SIG_DFL does (Linux: sig_kernel_*).
type dflAction uint8

const (
	dflTerm dflAction = iota
	dflCore
	dflIgnore
	dflStop
)

func defaultAction(sig int) dflAction {
	switch sig {
	case sigQUIT, sigILL, sigTRAP, sigABRT, sigBUS, sigFPE, sigSEGV, sigXCPU, sigXFSZ, sigSYS:
		return dflCore
	case sigCHLD, sigURG, sigWINCH, sigCONT:
		return dflIgnore
	case sigSTOP, sigTSTP, sigTTIN, sigTTOU:
		return dflStop
	}
	return dflTerm
}

// ignored reports whether a signal sent now would be dropped (Linux:
// sig_ignored): its handler is SIG_IGN, or SIG_DFL with an ignoring
// default. Stop signals are ignored as well: job-control stops are not
// implemented (documented in docs/processes.md).
func (p *Process) ignored(sig int) bool {
	if sig == sigKILL {
		return false
	}
	a := p.sig.get(sig)
	if a.handler == sigIGN {
		return true
	}
	return a.handler == sigDFL && (defaultAction(sig) == dflIgnore || defaultAction(sig) == dflStop)
}

// sendSignal queues sig for the process and wakes a thread that will take
// it (Linux: send_signal + complete_signal). SIGKILL ends the process at
// once, whatever its threads are doing.
func (p *Process) sendSignal(info sigInfo) {
	sig := int(info.signo)
	if sig == sigCONT {
		p.itimerCont()
	}
	if p.ignored(sig) {
		return
	}
	p.mu.Lock()
	if p.exiting {
		p.mu.Unlock()
		return
	}
	p.pending.add(info)
	threads := append([]*Thread(nil), p.threads...)
	p.mu.Unlock()
	for _, t := range threads {
		t.sigMu.gen.Add(1) // every thread looks again (it may be the one to take it)
	}
	if sig == sigKILL {
		p.doGroupExit(sig, threads)
		return
	}
	for _, t := range threads {
		if !t.blocks(sig) {
			t.kick()
			return
		}
	}
}

// sendSignal queues sig for this thread only (tgkill, faults).
func (t *Thread) sendSignal(info sigInfo) {
	sig := int(info.signo)
	if t.Proc.ignored(sig) && info.code != siKernel {
		return
	}
	t.sigMu.Lock()
	t.pending.add(info)
	t.sigMu.Unlock()
	if sig == sigKILL {
		t.Proc.doGroupExit(sig, t.Proc.threadsSnapshot())
		return
	}
	if !t.blocks(sig) {
		t.kick()
	}
}

func (t *Thread) blocks(sig int) bool {
	t.sigMu.Lock()
	defer t.sigMu.Unlock()
	return t.mask&sigbit(sig) != 0
}

// dequeueSignal takes the next signal the thread does not block: its own
// first, then the process's (Linux: dequeue_signal).
func (t *Thread) dequeueSignal() (sigInfo, bool) {
	t.sigMu.Lock()
	allowed := ^t.mask | unblockable
	info, ok := t.pending.take(allowed)
	t.sigSeen = t.sigMu.gen.Load() + 1 // what gen is after this unlock
	t.sigMu.Unlock()
	if ok {
		return info, true
	}
	p := t.Proc
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending.take(allowed)
}

// signalPending reports whether a signal could be delivered now (Linux:
// signal_pending after recalc_sigpending).
func (t *Thread) signalPending() bool {
	if t.exitNow.Load() {
		return true
	}
	t.sigMu.Lock()
	allowed := ^t.mask | unblockable
	mine := t.pending.set & allowed
	t.sigMu.Unlock()
	if mine != 0 {
		return true
	}
	p := t.Proc
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending.set&allowed != 0
}

// recalcSigPending makes the task's interrupt flag say whether a signal
// is deliverable, so the next interruptible wait ends at once or not
// (Linux: recalc_sigpending).
func (t *Thread) recalcSigPending() {
	if t.signalPending() {
		t.task.Interrupt()
	} else {
		t.task.ClearInterrupt()
	}
}

// archDoSignalOrRestart delivers pending signals before the thread returns to user
// mode (Linux: arch_do_signal_or_restart → get_signal, handle_signal),
// and restarts or fails the interrupted system call.
func (t *Thread) archDoSignalOrRestart() {
	// Nothing sent, no mask changed, no kick since the last look found
	// nothing, and no restart to decide: nothing to do (Linux: the
	// _TIF_SIGPENDING test before exit_to_user_mode_loop). The task's
	// interrupt flag is still clear from that look: only kicks set it.
	if t.sigQuiet && t.sigMu.gen.Load() == t.sigQuietGen && !t.restoreMask &&
		!t.exitNow.Load() && !restartErrno(t.ctx.Regs.RAX) {
		t.origRAX = ^uint64(0)
		return
	}
	t.sigQuiet = false
	handled, drained := false, false
	for !t.exitNow.Load() {
		info, ok := t.dequeueSignal()
		if !ok {
			drained = true
			break
		}
		sig := int(info.signo)
		act := t.Proc.sig.get(sig)
		switch {
		case sig == sigKILL:
			t.Proc.doGroupExit(sig, t.Proc.threadsSnapshot())
		case act.handler == sigIGN:
		case act.handler == sigDFL:
			switch defaultAction(sig) {
			case dflTerm:
				t.Proc.doGroupExit(sig, t.Proc.threadsSnapshot())
			case dflCore:
				// RLIMIT_CORE is 0, as Linux's default: no core file, so
				// the status has no WCOREDUMP bit.
				t.Proc.doGroupExit(sig, t.Proc.threadsSnapshot())
			}
		default:
			if !handled {
				t.restartSyscall(&act)
			}
			handled = true
			t.handleSignal(info, act)
		}
	}
	if !handled {
		t.restartSyscall(nil)
	}
	if t.restoreMask {
		t.sigMu.Lock()
		t.mask, t.restoreMask = t.savedMask, false
		t.sigMu.Unlock()
		drained = false // the mask changed: look again
	}
	t.origRAX = ^uint64(0)
	if drained && !t.exitNow.Load() {
		// dequeueSignal just found nothing deliverable under this mask:
		// recalc_sigpending's answer, without asking again. (A signal
		// sent since kicks the thread, as it would after the recalc.)
		t.task.ClearInterrupt()
		t.sigQuiet, t.sigQuietGen = true, t.sigSeen
		return
	}
	t.recalcSigPending()
}

// restartErrno reports whether rax is one of the internal restart errnos.
func restartErrno(rax uint64) bool {
	e := -int64(rax)
	return e >= int64(errRestartSys) && e <= int64(errRestartBlock)
}

// restartSyscall decides what an interrupted system call returns (Linux:
// the switch in handle_signal and arch_do_signal_or_restart). act is the
// handler about to run, nil when none runs.
func (t *Thread) restartSyscall(act *sigaction) {
	r := &t.ctx.Regs
	if t.origRAX == ^uint64(0) {
		return
	}
	restart := false
	switch syscall.Errno(-int64(r.RAX)) {
	case errRestartNoIntr:
		restart = true
	case errRestartSys:
		restart = act == nil || act.flags&saRestart != 0
	case errRestartNoHand, errRestartBlock:
		restart = act == nil
	default:
		return
	}
	if restart {
		r.RAX = t.origRAX
		r.RIP -= 2 // SYSCALL is two bytes: run it again
	} else {
		r.RAX = negErrno(syscall.EINTR)
	}
}

// forceSigFault delivers a fault's signal even when blocked or ignored: an
// unhandled one kills the process (Linux: force_sig_fault).
func (t *Thread) forceSigFault(sig int, code int32, addr uint64) {
	act := t.Proc.sig.get(sig)
	t.sigMu.Lock()
	blocked := t.mask&sigbit(sig) != 0
	t.sigMu.Unlock()
	if blocked || act.handler == sigIGN {
		p := t.Proc
		p.sig.mu.Lock()
		p.sig.act[sig] = sigaction{}
		p.sig.mu.Unlock()
		t.sigMu.Lock()
		t.mask &^= sigbit(sig)
		t.sigMu.Unlock()
	}
	t.sigMu.Lock()
	t.pending.add(sigInfo{signo: int32(sig), code: code, addr: addr})
	t.sigMu.Unlock()
}

// kill sends sig from process `from` (nil: the kernel) to pid as kill(2)
// does: pid > 0 one process, 0 the sender's group, -1 everyone but init
// and the sender, < -1 the group -pid.
func kill(from *Process, pid, sig int) error {
	if sig < 0 || sig > nSig {
		return syscall.EINVAL
	}
	info := sigInfo{signo: int32(sig), code: siUser}
	if from != nil {
		info.pid = int32(from.PID)
	}
	var targets []*Process
	switch {
	case pid > 0:
		if p := Lookup(pid); p != nil {
			targets = []*Process{p}
		}
	case pid == 0:
		_, pgid, _ := from.IDs()
		targets = groupMembers(pgid)
	case pid == -1:
		for _, p := range All() {
			if p.PID != 1 && p != from {
				targets = append(targets, p)
			}
		}
	default:
		targets = groupMembers(-pid)
	}
	live := 0
	for _, p := range targets {
		table.mu.Lock()
		alive := p.state == procAlive
		table.mu.Unlock()
		if !alive && pid <= 0 {
			continue
		}
		live++
		if sig != 0 && alive {
			p.sendSignal(info)
		}
	}
	if live == 0 {
		return syscall.ESRCH
	}
	return nil
}

// Kill sends sig to pid from the kernel (the shell's kill, Ctrl-C).
func Kill(pid, sig int) error { return kill(nil, pid, sig) }

// KillGroup sends sig to every process of group pgid.
func KillGroup(pgid, sig int) error { return kill(nil, -pgid, sig) }

func groupMembers(pgid int) []*Process {
	table.mu.Lock()
	defer table.mu.Unlock()
	var out []*Process
	for _, p := range table.procs {
		if p.pgid == pgid {
			out = append(out, p)
		}
	}
	return out
}
