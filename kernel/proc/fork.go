package proc

import (
	"encoding/binary"
	"syscall"

	"gomenuos/kernel/mm"
)

// clone flags (Linux: include/uapi/linux/sched.h).
const (
	cloneVM            = 0x00000100
	cloneFS            = 0x00000200
	cloneFiles         = 0x00000400
	cloneSighand       = 0x00000800
	clonePidfd         = 0x00001000
	cloneVfork         = 0x00004000
	cloneParent        = 0x00008000
	cloneThread        = 0x00010000
	cloneSysvsem       = 0x00040000
	cloneSetTLS        = 0x00080000
	cloneParentSetTID  = 0x00100000
	cloneChildClearTID = 0x00200000
	cloneDetached      = 0x00400000
	cloneUntraced      = 0x00800000
	cloneChildSetTID   = 0x01000000
	cloneNamespaces    = 0x7e020000 // CLONE_NEW*: not supported
	csignal            = 0xff
)

// cloneArgs are kernel_clone's arguments (Linux: struct kernel_clone_args).
type cloneArgs struct {
	flags      uint64
	exitSignal int
	stack      uintptr // the child's stack pointer, 0 to keep the parent's
	parentTID  uintptr
	childTID   uintptr
	tls        uintptr
}

// kernelClone creates a thread or a process as a copy of t (Linux:
// kernel_clone → copy_process), starts it, and returns its ID.
func kernelClone(t *Thread, ca cloneArgs) (int, error) {
	f := ca.flags
	switch {
	case f&cloneNamespaces != 0 || f&clonePidfd != 0:
		return 0, syscall.EINVAL
	case f&cloneThread != 0 && f&cloneSighand == 0, f&cloneSighand != 0 && f&cloneVM == 0:
		return 0, syscall.EINVAL
	}
	table.mu.Lock()
	if table.nthreads >= MaxThreads {
		table.mu.Unlock()
		return 0, syscall.EAGAIN
	}
	id := allocPIDLocked()
	if id == 0 {
		table.mu.Unlock()
		return 0, syscall.EAGAIN
	}
	table.nthreads++
	table.mu.Unlock()
	var child *Thread
	var err error
	if f&cloneThread != 0 {
		child = t.newSibling(id, ca)
	} else {
		child, err = t.copyProcess(id, ca)
	}
	if err != nil {
		table.mu.Lock()
		table.nthreads--
		table.mu.Unlock()
		return 0, err
	}
	if f&cloneParentSetTID != 0 && ca.parentTID != 0 {
		putU32(t.Proc.MM(), ca.parentTID, uint32(id))
	}
	if f&cloneChildSetTID != 0 && ca.childTID != 0 {
		putU32(child.Proc.MM(), ca.childTID, uint32(id))
	}
	if f&cloneChildClearTID != 0 {
		child.clearTID = ca.childTID
	}
	child.start()
	Stats.Forks.Add(1)
	if f&cloneVfork != 0 {
		t.waitVfork(child.Proc)
	}
	return id, nil
}

// newSibling makes a thread of t's process (CLONE_THREAD: pthread_create).
func (t *Thread) newSibling(tid int, ca cloneArgs) *Thread {
	p := t.Proc
	c := newThread(p, tid, &t.ctx.Regs)
	c.ctx.PPID = t.ctx.PPID
	setChildRegs(c, t, ca)
	t.sigMu.Lock()
	c.mask = t.mask
	t.sigMu.Unlock()
	p.mu.Lock()
	p.threads = append(p.threads, c)
	p.mu.Unlock()
	return c
}

// setChildRegs gives the child the parent's registers as clone leaves
// them: RAX 0, on the given stack and TLS.
func setChildRegs(c, parent *Thread, ca cloneArgs) {
	r := &c.ctx.Regs
	r.RAX = 0
	if ca.stack != 0 {
		r.RSP = uint64(ca.stack)
	}
	if ca.flags&cloneSetTLS != 0 {
		r.FSBase = uint64(ca.tls)
	}
	c.ctx.GSBase = parent.ctx.GSBase
}

// copyProcess makes a new process whose first thread copies t.
func (t *Thread) copyProcess(pid int, ca cloneArgs) (*Thread, error) {
	p := t.Proc
	p.mu.Lock()
	pm, pfiles, psig := p.mmPtr.Load(), p.files, p.sig
	np := &Process{PID: pid, comm: p.comm, cmdline: p.cmdline, exe: p.exe, cwd: p.cwd, umask: p.umask,
		ctty: p.ctty, start: nowNS(), exitSignal: ca.exitSignal}
	p.mu.Unlock()
	if ca.flags&cloneVM != 0 {
		np.mmPtr.Store(pm.Get())
	} else {
		m, err := pm.DupMM()
		if err != nil {
			return nil, err
		}
		np.mmPtr.Store(m)
	}
	if ca.flags&cloneFiles != 0 {
		np.files = pfiles // shared table (CLONE_FILES)
	} else {
		np.files = pfiles.Clone()
	}
	if ca.flags&cloneSighand != 0 {
		np.sig = psig
	} else {
		np.sig = psig.clone()
	}
	if ca.flags&cloneVfork != 0 {
		np.vforkDone = make(chan struct{})
	}
	c := newThread(np, pid, &t.ctx.Regs)
	setChildRegs(c, t, ca)
	t.sigMu.Lock()
	c.mask = t.mask
	if ca.flags&cloneVM == 0 || ca.flags&cloneVfork != 0 {
		c.altSP, c.altSize, c.altOff = t.altSP, t.altSize, t.altOff
	}
	t.sigMu.Unlock()
	np.threads = []*Thread{c}
	table.mu.Lock()
	np.parent = p
	if ca.flags&cloneParent != 0 && p.parent != nil {
		np.parent = p.parent
	}
	np.pgid, np.sid = p.pgid, p.sid
	np.parent.children = append(np.parent.children, np)
	c.ctx.PPID = int32(np.parent.PID)
	table.procs[pid] = np
	table.mu.Unlock()
	return c, nil
}

// waitVfork blocks the parent until the child has exec'd or exited
// (Linux: wait_for_vfork_done); signals may not end the wait early.
func (t *Thread) waitVfork(child *Process) {
	<-child.vforkDone
}

func putU32(m *mm.MM, addr uintptr, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return m.CopyToUser(addr, b[:])
}

func sysClone(t *Thread, a args) (uintptr, error) {
	// x86-64 order: flags, stack, parent_tid, child_tid, tls.
	ca := cloneArgs{flags: uint64(a[0]) &^ csignal, exitSignal: int(a[0] & csignal), stack: a[1],
		parentTID: a[2], childTID: a[3], tls: a[4]}
	id, err := kernelClone(t, ca)
	return uintptr(id), err
}

func sysFork(t *Thread, _ args) (uintptr, error) {
	id, err := kernelClone(t, cloneArgs{exitSignal: sigCHLD})
	return uintptr(id), err
}

func sysVfork(t *Thread, _ args) (uintptr, error) {
	id, err := kernelClone(t, cloneArgs{flags: cloneVM | cloneVfork, exitSignal: sigCHLD})
	return uintptr(id), err
}

// sysClone3 reads struct clone_args (Linux: clone3, copy_clone_args_from_user).
func sysClone3(t *Thread, a args) (uintptr, error) {
	size := a[1]
	if size < 64 || size > 4096 {
		return 0, syscall.EINVAL
	}
	var b [88]byte
	if err := t.Proc.MM().CopyFromUser(b[:min(size, 88)], a[0]); err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	ca := cloneArgs{flags: le.Uint64(b[0:]), childTID: uintptr(le.Uint64(b[16:])),
		parentTID: uintptr(le.Uint64(b[24:])), exitSignal: int(le.Uint64(b[32:])), tls: uintptr(le.Uint64(b[56:]))}
	if stack, ssize := le.Uint64(b[40:]), le.Uint64(b[48:]); stack != 0 {
		ca.stack = uintptr(stack + ssize)
	}
	if ca.flags&csignal != 0 || le.Uint64(b[64:]) != 0 { // exit signal goes in its own field; no set_tid
		return 0, syscall.EINVAL
	}
	id, err := kernelClone(t, ca)
	return uintptr(id), err
}
