package proc

import (
	"encoding/binary"
	"syscall"

	"gomenuos/kernel/linux"
	"gomenuos/sched"
)

// doGroupExit makes every thread of p leave with wait status status
// (Linux: do_group_exit / zap_other_threads). The first caller's status
// wins.
func (p *Process) doGroupExit(status int, threads []*Thread) {
	p.mu.Lock()
	if !p.exiting {
		p.exiting = true
		p.groupExt = status
	}
	p.mu.Unlock()
	for _, t := range threads {
		t.exitNow.Store(true)
		t.kick()
	}
}

// sysExit ends the calling thread (Linux: exit → do_exit). The last
// thread to go ends the process with this status.
func sysExit(t *Thread, a args) (uintptr, error) {
	p := t.Proc
	p.mu.Lock()
	if !p.exiting && len(p.threads) == 1 {
		p.groupExt = int(a[0]&0xff) << 8
	}
	p.mu.Unlock()
	t.exitNow.Store(true)
	return 0, errNoReturn
}

func sysExitGroup(t *Thread, a args) (uintptr, error) {
	t.Proc.doGroupExit(int(a[0]&0xff)<<8, t.Proc.threadsSnapshot())
	return 0, errNoReturn
}

// doExit is the end of a thread's goroutine (Linux: do_exit): clear
// clear_child_tid and wake its futex (pthread_join waits on it), leave
// the process, and if it was the last thread, the process exits.
func (t *Thread) doExit() {
	p := t.Proc
	if t.clearTID != 0 && p.MM() != nil {
		var zero [4]byte
		if p.MM().CopyToUser(t.clearTID, zero[:]) == nil {
			futexWake(t, t.clearTID, 1, false)
		}
	}
	p.mu.Lock()
	for i, x := range p.threads {
		if x == t {
			p.threads = append(p.threads[:i], p.threads[i+1:]...)
			break
		}
	}
	last := len(p.threads) == 0
	status := p.groupExt
	p.mu.Unlock()
	table.mu.Lock()
	table.nthreads--
	table.mu.Unlock()
	if last {
		p.exitProcess(status)
	}
}

// exitProcess releases what the process holds and makes it a zombie for
// its parent to reap (Linux: exit_mm, exit_files, exit_notify).
func (p *Process) exitProcess(status int) {
	p.itimerStop()
	p.mu.Lock()
	m, files := p.mmPtr.Swap(nil), p.files
	p.files = nil
	if p.vforkDone != nil && !p.execDone {
		close(p.vforkDone)
	}
	p.mu.Unlock()
	if files != nil {
		files.CloseAll()
	}
	if m != nil {
		m.Put(dropRoot)
	}
	table.mu.Lock()
	p.state = procZombie
	p.exitStatus = status
	initp := table.init
	for _, c := range p.children {
		c.parent = initp
		if initp != nil && initp != p {
			initp.children = append(initp.children, c)
		}
		for _, ct := range c.threadsSnapshot() {
			ct.ctx.PPID = 1 // what getppid answers from trap context
		}
	}
	p.children = nil
	parent := p.parent
	// Nobody waits for children of the kernel (the Go shell, pid 1 when
	// no init program runs): they are reaped at once, their status kept.
	autoReap := parent == nil || parent.kernel
	table.mu.Unlock()
	if parent != nil && !parent.kernel {
		act := parent.sig.get(sigCHLD)
		if act.handler == sigIGN || act.flags&saNoCldWait != 0 {
			autoReap = true
		}
		code, st := int32(cldExited), int32(status>>8)
		if status&0x7f != 0 {
			code, st = cldKilled, int32(status&0x7f)
			if status&0x80 != 0 {
				code = cldDumped
			}
		}
		if p.exitSignal > 0 && p.exitSignal <= nSig {
			parent.sendSignal(sigInfo{signo: int32(p.exitSignal), code: code, pid: int32(p.PID), status: st})
		}
		parent.childWait.WakeUpAll()
	}
	if autoReap {
		p.releaseTask()
	}
	notifyExit(p)
}

// dropRoot retires a page-table tree before the mm frees it.
func dropRoot(root uintptr) {
	syscall.RawSyscall(linux.SysDropRoot, root, 0, 0)
}

// releaseTask removes a zombie from the table (Linux: release_task).
func (p *Process) releaseTask() {
	table.mu.Lock()
	defer table.mu.Unlock()
	if p.state == procReaped {
		return
	}
	p.state = procReaped
	delete(table.procs, p.PID)
	if par := p.parent; par != nil {
		for i, c := range par.children {
			if c == p {
				par.children = append(par.children[:i], par.children[i+1:]...)
				break
			}
		}
	}
}

// Wait options.
const (
	wNoHang    = 1
	wUntraced  = 2
	wExited    = 4
	wContinued = 8
	wNoWait    = 0x01000000
)

// doWait waits for a child matching pid (wait4's pid rules) to become
// a zombie and reaps it unless noReap (Linux: do_wait). It returns the
// child and its status; (nil, 0, nil) with WNOHANG when children exist but
// none has exited.
func (p *Process) doWait(task *sched.Task, pid, options int, noReap bool) (*Process, int, error) {
	var found *Process
	var status int
	var childErr error
	cond := func() bool {
		table.mu.Lock()
		defer table.mu.Unlock()
		found, childErr = nil, syscall.ECHILD
		for _, c := range p.children {
			if !matchWait(c, p, pid) {
				continue
			}
			childErr = nil
			if c.state == procZombie {
				found, status = c, c.exitStatus
				return true
			}
		}
		return childErr != nil || options&wNoHang != 0
	}
	if err := p.childWait.WaitEventInterruptible(task, cond); err != nil {
		return nil, 0, errRestartSys
	}
	if childErr != nil {
		return nil, 0, childErr
	}
	if found != nil && !noReap {
		found.releaseTask()
	}
	return found, status, nil
}

func matchWait(c, p *Process, pid int) bool {
	switch {
	case pid > 0:
		return c.PID == pid
	case pid == -1:
		return true
	case pid == 0:
		return c.pgid == p.pgid
	default:
		return c.pgid == -pid
	}
}

func sysWait4(t *Thread, a args) (uintptr, error) {
	pid, statusAddr, options := int(int32(a[0])), a[1], int(a[2])
	if options&^(wNoHang|wUntraced|wContinued|0x40000000|0x80000000|0x20000000) != 0 {
		return 0, syscall.EINVAL
	}
	c, status, err := t.Proc.doWait(t.task, pid, options, false)
	if err != nil || c == nil {
		return 0, err
	}
	if statusAddr != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(status))
		if err := t.Proc.MM().CopyToUser(statusAddr, b[:]); err != nil {
			return 0, err
		}
	}
	if a[3] != 0 {
		var ru [144]byte // struct rusage: no accounting yet, all zero
		if err := t.Proc.MM().CopyToUser(a[3], ru[:]); err != nil {
			return 0, err
		}
	}
	return uintptr(c.PID), nil
}

// sysWaitid: idtype P_ALL 0, P_PID 1, P_PGID 2; fills a siginfo.
func sysWaitid(t *Thread, a args) (uintptr, error) {
	idtype, id, infop, options := int(a[0]), int(int32(a[1])), a[2], int(a[3])
	pid := -1
	switch idtype {
	case 0:
	case 1:
		pid = id
	case 2:
		pid = -id
		if id == 0 {
			pid = 0
		}
	default:
		return 0, syscall.EINVAL
	}
	if options&(wExited|wUntraced|wContinued) == 0 {
		return 0, syscall.EINVAL
	}
	c, status, err := t.Proc.doWait(t.task, pid, options, options&wNoWait != 0)
	if err != nil {
		return 0, err
	}
	if infop == 0 {
		return 0, nil
	}
	var b [128]byte
	if c != nil {
		info := sigInfo{signo: sigCHLD, code: cldExited, pid: int32(c.PID), status: int32(status >> 8)}
		if status&0x7f != 0 {
			info.code, info.status = cldKilled, int32(status&0x7f)
		}
		writeSiginfo(b[:], info)
	}
	return 0, t.Proc.MM().CopyToUser(infop, b[:])
}

// notifyExit tells kernel waiters a process became a zombie or was reaped.
func notifyExit(p *Process) {
	exitWait.WakeUpAll()
}

// exitWait is woken whenever any process exits.
var exitWait sched.WaitQueue

// Status returns the wait status once the process has exited.
func (p *Process) Status() (status int, exited bool) {
	table.mu.Lock()
	defer table.mu.Unlock()
	return p.exitStatus, p.state != procAlive
}

// Wait blocks until p has exited (for kernel callers such as the shell,
// whose children are reaped as they exit; interruptible through task) and
// returns its wait status.
func (p *Process) Wait(task *sched.Task) (int, error) {
	err := exitWait.WaitEventInterruptible(task, func() bool {
		_, done := p.Status()
		return done
	})
	if err != nil {
		return 0, err
	}
	st, _ := p.Status()
	return st, nil
}
