package proc

import (
	"crypto/rand"
	"encoding/binary"
	"syscall"

	"gomenuos/kernel/mm"
)

// Identity, limits and process attributes (Linux: kernel/sys.c,
// arch/x86/kernel/process_64.c, kernel/sched/core.c).

func init() {
	register(24, "sched_yield", sysSchedYield)
	register(39, "getpid", func(t *Thread, _ args) (uintptr, error) { return uintptr(t.Proc.PID), nil })
	register(63, "uname", sysUname)
	register(97, "getrlimit", func(t *Thread, a args) (uintptr, error) { return 0, t.getrlimit(int(a[0]), a[1]) })
	register(98, "getrusage", sysGetrusage)
	register(99, "sysinfo", sysSysinfo)
	register(102, "getuid", sysZero)
	register(104, "getgid", sysZero)
	register(105, "setuid", sysSetID)
	register(106, "setgid", sysSetID)
	register(107, "geteuid", sysZero)
	register(108, "getegid", sysZero)
	register(109, "setpgid", sysSetpgid)
	register(110, "getppid", func(t *Thread, _ args) (uintptr, error) { pp, _, _ := t.Proc.IDs(); return uintptr(pp), nil })
	register(111, "getpgrp", func(t *Thread, _ args) (uintptr, error) { _, pg, _ := t.Proc.IDs(); return uintptr(pg), nil })
	register(112, "setsid", sysSetsid)
	register(113, "setreuid", sysSetID)
	register(114, "setregid", sysSetID)
	register(115, "getgroups", sysZero)
	register(116, "setgroups", sysSetID)
	register(117, "setresuid", sysSetID)
	register(118, "getresuid", sysGetres)
	register(119, "setresgid", sysSetID)
	register(120, "getresgid", sysGetres)
	register(121, "getpgid", sysGetpgid)
	register(124, "getsid", sysGetsid)
	register(135, "personality", sysZero)
	register(140, "getpriority", func(*Thread, args) (uintptr, error) { return 20, nil }) // nice 0
	register(141, "setpriority", sysZero)
	register(157, "prctl", sysPrctl)
	register(158, "arch_prctl", sysArchPrctl)
	register(160, "setrlimit", func(*Thread, args) (uintptr, error) { return 0, nil })
	register(186, "gettid", func(t *Thread, _ args) (uintptr, error) { return uintptr(t.TID), nil })
	register(203, "sched_setaffinity", sysZero)
	register(204, "sched_getaffinity", sysSchedGetaffinity)
	register(218, "set_tid_address", func(t *Thread, a args) (uintptr, error) { t.clearTID = a[0]; return uintptr(t.TID), nil })
	register(273, "set_robust_list", func(t *Thread, a args) (uintptr, error) {
		if a[1] != 24 {
			return 0, syscall.EINVAL
		}
		t.robust = a[0]
		return 0, nil
	})
	register(274, "get_robust_list", sysZero)
	register(302, "prlimit64", sysPrlimit)
	register(318, "getrandom", sysGetrandom)
	register(324, "membarrier", sysZero)
	register(334, "rseq", func(*Thread, args) (uintptr, error) { return 0, syscall.ENOSYS })
}

func sysZero(*Thread, args) (uintptr, error) { return 0, nil }

// sysSchedYield gives the CPU to the next runnable thread: the kernel
// scheduler's yield, made by the thread itself (Linux: do_sched_yield).
// runtime.Gosched would be wrong here: it makes the Go scheduler hand the
// locked goroutine's P around instead of yielding the thread.
func sysSchedYield(*Thread, args) (uintptr, error) {
	syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
	return 0, nil
}

// sysSetID accepts setting the only identity there is (root).
func sysSetID(*Thread, args) (uintptr, error) { return 0, nil }

func sysGetres(t *Thread, a args) (uintptr, error) {
	var z [4]byte
	m := t.Proc.MM()
	for _, p := range a[:3] {
		if err := m.CopyToUser(p, z[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// Version strings uname and /proc/version report.
const (
	UnameSysname = "Linux"
	UnameRelease = "6.1.0-gomenuos"
	UnameVersion = "#1 gomenuos (Go " + "1.26" + ")"
	UnameMachine = "x86_64"
)

// Hostname is what uname reports as nodename.
var Hostname = "gomenuos"

func sysUname(t *Thread, a args) (uintptr, error) {
	b := make([]byte, 6*65)
	for i, s := range []string{UnameSysname, Hostname, UnameRelease, UnameVersion, UnameMachine, "(none)"} {
		copy(b[i*65:i*65+64], s)
	}
	return 0, t.Proc.MM().CopyToUser(a[0], b)
}

// Resource limits: RLIMIT_STACK 3, RLIMIT_NOFILE 7, RLIMIT_NPROC 6,
// RLIMIT_AS 9; the rest unlimited.
func rlimit(res int) (cur, max uint64) {
	inf := ^uint64(0)
	switch res {
	case 3:
		return mm.StackSize, inf
	case 6:
		return MaxThreads, MaxThreads
	case 7:
		return 1024, 1024
	}
	return inf, inf
}

func (t *Thread) getrlimit(res int, addr uintptr) error {
	if res < 0 || res > 15 {
		return syscall.EINVAL
	}
	cur, max := rlimit(res)
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], cur)
	binary.LittleEndian.PutUint64(b[8:], max)
	return t.Proc.MM().CopyToUser(addr, b[:])
}

func sysPrlimit(t *Thread, a args) (uintptr, error) {
	if a[0] != 0 && int(a[0]) != t.Proc.PID && Lookup(int(a[0])) == nil {
		return 0, syscall.ESRCH
	}
	if a[3] != 0 {
		return 0, t.getrlimit(int(a[1]), a[3])
	}
	return 0, nil
}

func sysGetrusage(t *Thread, a args) (uintptr, error) {
	var b [144]byte
	ns := t.Proc.utimeNS.Load()
	binary.LittleEndian.PutUint64(b[0:], uint64(ns/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(ns%1e9/1e3))
	return 0, t.Proc.MM().CopyToUser(a[1], b[:])
}

// SysinfoSource feeds sysinfo(2): uptime, RAM and process count.
var SysinfoSource = func() (uptimeS, totalRAM, freeRAM uint64) { return 0, 0, 0 }

func sysSysinfo(t *Thread, a args) (uintptr, error) {
	up, total, free := SysinfoSource()
	b := make([]byte, 112)
	le := binary.LittleEndian
	le.PutUint64(b[0:], up)
	le.PutUint64(b[32:], total)
	le.PutUint64(b[40:], free)
	le.PutUint16(b[80:], uint16(len(All())))
	le.PutUint32(b[104:], 1) // mem_unit
	return 0, t.Proc.MM().CopyToUser(a[0], b)
}

func sysSchedGetaffinity(t *Thread, a args) (uintptr, error) {
	if a[1] < 8 {
		return 0, syscall.EINVAL
	}
	var b [8]byte
	b[0] = 1 // one CPU
	return 8, t.Proc.MM().CopyToUser(a[2], b[:])
}

func sysGetrandom(t *Thread, a args) (uintptr, error) {
	n := min(a[1], 1<<20)
	b := make([]byte, n)
	rand.Read(b)
	return n, t.Proc.MM().CopyToUser(a[0], b)
}

// prctl options.
const (
	prSetName = 15
	prGetName = 16
)

func sysPrctl(t *Thread, a args) (uintptr, error) {
	switch a[0] {
	case prSetName:
		name, err := t.Proc.MM().StrncpyFromUser(a[1], 4096)
		if err != nil {
			return 0, err
		}
		t.Proc.mu.Lock()
		t.Proc.comm = name[:min(len(name), commLen)]
		t.Proc.mu.Unlock()
		return 0, nil
	case prGetName:
		b := make([]byte, 16)
		copy(b, t.Proc.Comm())
		return 0, t.Proc.MM().CopyToUser(a[1], b)
	}
	return 0, syscall.EINVAL
}

// arch_prctl codes.
const (
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
)

func sysArchPrctl(t *Thread, a args) (uintptr, error) {
	r := &t.ctx.Regs
	switch a[0] {
	case archSetFS, archSetGS:
		if a[1] >= 1<<47 {
			return 0, syscall.EPERM // Linux: the address must be in the user half
		}
		if a[0] == archSetFS {
			r.FSBase = uint64(a[1])
		} else {
			t.ctx.GSBase = uint64(a[1])
		}
		return 0, nil
	case archGetFS, archGetGS:
		v := r.FSBase
		if a[0] == archGetGS {
			v = t.ctx.GSBase
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		return 0, t.Proc.MM().CopyToUser(a[1], b[:])
	}
	return 0, syscall.EINVAL
}

// Process groups and sessions (Linux: kernel/sys.c).

func sysSetpgid(t *Thread, a args) (uintptr, error) {
	pid, pgid := int(int32(a[0])), int(int32(a[1]))
	if pgid < 0 {
		return 0, syscall.EINVAL
	}
	table.mu.Lock()
	defer table.mu.Unlock()
	p := t.Proc
	target := p
	if pid != 0 && pid != p.PID {
		target = table.procs[pid]
		if target == nil || target.parent != p {
			return 0, syscall.ESRCH
		}
	}
	if pgid == 0 {
		pgid = target.PID
	}
	if target.sid != p.sid || target.sid == target.PID {
		return 0, syscall.EPERM // another session's, or a session leader
	}
	if pgid != target.PID {
		ok := false
		for _, q := range table.procs {
			if q.pgid == pgid && q.sid == p.sid {
				ok = true
				break
			}
		}
		if !ok {
			return 0, syscall.EPERM
		}
	}
	target.pgid = pgid
	return 0, nil
}

func sysGetpgid(t *Thread, a args) (uintptr, error) {
	p := t.Proc
	if a[0] != 0 {
		if p = Lookup(int(a[0])); p == nil {
			return 0, syscall.ESRCH
		}
	}
	_, pg, _ := p.IDs()
	return uintptr(pg), nil
}

func sysGetsid(t *Thread, a args) (uintptr, error) {
	p := t.Proc
	if a[0] != 0 {
		if p = Lookup(int(a[0])); p == nil {
			return 0, syscall.ESRCH
		}
	}
	_, _, sid := p.IDs()
	return uintptr(sid), nil
}

// sysSetsid makes the caller lead a new session and group, without a
// controlling terminal (Linux: ksys_setsid).
func sysSetsid(t *Thread, _ args) (uintptr, error) {
	table.mu.Lock()
	defer table.mu.Unlock()
	p := t.Proc
	for _, q := range table.procs {
		if q.pgid == p.PID {
			return 0, syscall.EPERM
		}
	}
	p.sid, p.pgid = p.PID, p.PID
	p.mu.Lock()
	p.ctty = false
	p.mu.Unlock()
	return uintptr(p.PID), nil
}
