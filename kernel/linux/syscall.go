package linux

import (
	"gomenuos/arch/x86"
	"gomenuos/drivers/uart"
	"gomenuos/kernel/mm"
	"gomenuos/sched"
)

// Linux x86-64 syscall numbers the runtime uses, plus gomenuos' own.
const (
	sysRead             = 0
	sysWrite            = 1
	sysClose            = 3
	sysFstat            = 5
	sysMmap             = 9
	sysMprotect         = 10
	sysMunmap           = 11
	sysRtSigaction      = 13
	sysRtSigprocmask    = 14
	sysRtSigreturnNr    = 15
	sysIoctl            = 16
	sysPread64          = 17
	sysSchedYield       = 24
	sysMadvise          = 28
	sysNanosleep        = 35
	sysGetpid           = 39
	sysClone            = 56
	sysExit             = 60
	sysKill             = 62
	sysUname            = 63
	sysFcntl            = 72
	sysSigaltstack      = 131
	sysPrctl            = 157
	sysArchPrctl        = 158
	sysGettid           = 186
	sysFutex            = 202
	sysSchedGetaffinity = 204
	sysClockGettime     = 228
	sysClockNanosleep   = 230
	sysExitGroup        = 231
	sysEpollWait        = 232
	sysEpollCtl         = 233
	sysTgkill           = 234
	sysOpenat           = 257
	sysEpollPwait       = 281
	sysEventfd2         = 290
	sysEpollCreate1     = 291
	sysPrlimit64        = 302
	sysGetrandom        = 318

	// SysIRQFD (gomenuos) returns a non-blocking eventfd that counts the
	// interrupts of a legacy IRQ line, so a goroutine can wait for them
	// through the runtime's netpoller.
	SysIRQFD = 1000
	// SysCrash (gomenuos) faults inside the syscall handler, to test the
	// kernel-context crash report.
	SysCrash = 1001
	// SysMSIFD (gomenuos) returns a non-blocking eventfd that counts the
	// interrupts of MSI vector VectorMSIBase+idx.
	SysMSIFD    = 1002
	nrSyscalls  = 1006
	noReturnVal = -1 << 63 // the handler set RAX itself (or switched threads)
)

// Errno values.
const (
	ePERM     = 1
	eNOENT    = 2
	eINTR     = 4
	eBADF     = 9
	eAGAIN    = 11
	eNOMEM    = 12
	eFAULT    = 14
	eINVAL    = 22
	eMFILE    = 24
	eNOTTY    = 25
	eNOSYS    = 38
	eTIMEDOUT = 110
)

// call is one system call being served: the trapped frame, its arguments
// (RDI, RSI, RDX, R10, R8, R9) and the time of entry.
type call struct {
	tf  *x86.TrapFrame
	a   [6]uintptr
	now int64
}

// sysCall serves one system call and returns RAX, or noReturnVal when it
// set RAX itself or switched to another thread.
type sysCall func(c call) int64

// sysCallTable maps syscall numbers to handlers (Linux: sys_call_table).
// Its entries are functions without captured state, so the table is laid
// out by the linker: it must work for the runtime's very first syscalls,
// before any package initialisation has run.
var sysCallTable = [nrSyscalls]sysCall{
	sysRead:             func(c call) int64 { return sysReadImpl(int(c.a[0]), c.a[1], c.a[2]) },
	sysWrite:            func(c call) int64 { return sysWriteImpl(int(c.a[0]), c.a[1], c.a[2]) },
	sysClose:            func(c call) int64 { return fdClose(int(c.a[0])) },
	sysMmap:             func(c call) int64 { return sysMmapImpl(c.a[0], c.a[1], uint32(c.a[2]), uint32(c.a[3]), int32(c.a[4])) },
	sysMprotect:         func(c call) int64 { return int64(mm.Mprotect(c.a[0], c.a[1], uint32(c.a[2]))) },
	sysMunmap:           func(c call) int64 { return int64(mm.Munmap(c.a[0], c.a[1])) },
	sysMadvise:          sysMadviseImpl,
	sysRtSigaction:      func(c call) int64 { return sysRtSigactionImpl(int(c.a[0]), c.a[1], c.a[2]) },
	sysRtSigprocmask:    func(c call) int64 { return sysRtSigprocmaskImpl(int(c.a[0]), c.a[1], c.a[2]) },
	sysRtSigreturnNr:    func(c call) int64 { sysRtSigreturn(c.tf); return noReturnVal },
	sysSigaltstack:      func(c call) int64 { return sysSigaltstackImpl(c.a[0], c.a[1]) },
	sysSchedYield:       sysSchedYieldImpl,
	sysNanosleep:        func(c call) int64 { return sysNanosleepImpl(c.tf, c.a[0], c.now) },
	sysClockNanosleep:   func(c call) int64 { return sysNanosleepImpl(c.tf, c.a[2], c.now) },
	sysGetpid:           func(c call) int64 { return 1 },
	sysGettid:           func(c call) int64 { return int64(sched.Cur().TID) },
	sysClone:            func(c call) int64 { return sysCloneImpl(c.tf, uint64(c.a[0]), uint64(c.a[1]), uint64(c.a[4])) },
	sysExit:             func(c call) int64 { sched.Exit(c.tf, c.now); return noReturnVal },
	sysExitGroup:        func(c call) int64 { shutdown(uint8(c.a[0])); return 0 },
	sysTgkill:           func(c call) int64 { return sysTgkillImpl(int32(c.a[1]), uint32(c.a[2])) },
	sysKill:             func(c call) int64 { return sysTgkillImpl(sched.Cur().TID, uint32(c.a[1])) },
	sysFutex:            func(c call) int64 { return sysFutexImpl(c.tf, c.a[0], int(c.a[1]), uint32(c.a[2]), c.a[3], c.now) },
	sysArchPrctl:        func(c call) int64 { return sysArchPrctlImpl(c.tf, int(c.a[0]), c.a[1]) },
	sysClockGettime:     func(c call) int64 { return sysClockGettimeImpl(int(c.a[0]), c.a[1]) },
	sysSchedGetaffinity: sysSchedGetaffinityImpl,
	sysGetrandom:        sysGetrandomImpl,
	sysFcntl:            func(c call) int64 { return fdFcntl(int(c.a[0]), int(c.a[1]), c.a[2]) },
	sysOpenat:           func(c call) int64 { return -eNOENT }, // no files behind the runtime's own opens
	sysPrctl:            func(c call) int64 { return -eINVAL }, // PR_SET_VMA: EINVAL once and the runtime stops asking
	sysFstat:            sysNoTTY,
	sysIoctl:            sysNoTTY,
	sysPread64:          func(c call) int64 { return -eBADF },
	sysPrlimit64:        func(c call) int64 { return sysPrlimitImpl(int(c.a[1]), c.a[3]) },
	sysEventfd2:         func(c call) int64 { return eventfdCreate(uint64(c.a[0]), int(c.a[1])) },
	sysEpollCreate1:     func(c call) int64 { return epollCreate() },
	sysEpollCtl:         func(c call) int64 { return epollCtl(int(c.a[0]), int(c.a[1]), int(c.a[2]), c.a[3]) },
	sysEpollWait:        sysEpollWaitImpl,
	sysEpollPwait:       sysEpollWaitImpl,
	sysSetitimer:        func(c call) int64 { return sysSetitimerImpl(int(c.a[0]), c.a[1], c.a[2], c.now) },
	sysGetitimer:        func(c call) int64 { return sysGetitimerImpl(int(c.a[0]), c.a[1], c.now) },
	sysTimerCreate:      func(c call) int64 { return sysTimerCreateImpl(int32(c.a[0]), c.a[1], c.a[2]) },
	sysTimerSettime:     func(c call) int64 { return sysTimerSettimeImpl(int32(c.a[0]), int(c.a[1]), c.a[2], c.a[3], c.now) },
	sysTimerGettime:     func(c call) int64 { return sysTimerGettimeImpl(int32(c.a[0]), c.a[1], c.now) },
	sysTimerGetoverrun:  func(c call) int64 { return sysTimerGetoverrunImpl(int32(c.a[0])) },
	sysTimerDelete:      func(c call) int64 { return sysTimerDeleteImpl(int32(c.a[0])) },
	SysIRQFD:            func(c call) int64 { return irqfdCreate(int(c.a[0])) },
	SysMSIFD:            func(c call) int64 { return msifdCreate(int(c.a[0])) },
	SysCrash:            func(c call) int64 { return int64(load64(0x10)) }, // page 0 is never mapped
	SysRunUser:          sysRunUser,
	SysKick:             func(c call) int64 { return sysKick(int32(c.a[0])) },
	SysDropRoot:         func(c call) int64 { return sysDropRoot(uint64(c.a[0])) },
}

var unknownLogged [nrSyscalls]bool

// doSyscall dispatches a SYSCALL through sysCallTable (Linux:
// do_syscall_64). Unknown numbers get ENOSYS, logged once each.
func doSyscall(tf *x86.TrapFrame) {
	nr := tf.RAX
	if nr == SysRunUser && armed == 0 {
		// The way into user mode, twice per system call a process
		// makes: it needs no clock reading.
		Counters.Syscalls[nr]++
		if r := sysRunUser(call{tf: tf, a: [6]uintptr{uintptr(tf.RDI)}}); r != noReturnVal {
			tf.RAX = uint64(r)
		}
		return
	}
	var h sysCall
	if nr < nrSyscalls {
		Counters.Syscalls[nr]++
		h = sysCallTable[nr]
	}
	if h == nil {
		logUnknown(nr)
		h = sysNoSys
	}
	c := call{tf: tf, now: monotonicNS(),
		a: [6]uintptr{uintptr(tf.RDI), uintptr(tf.RSI), uintptr(tf.RDX), uintptr(tf.R10), uintptr(tf.R8), uintptr(tf.R9)}}
	slot := sched.Current
	if r := h(c); r != noReturnVal {
		tf.RAX = uint64(r)
	}
	if armed != 0 && sched.Current == slot {
		runSyscallCPUTimers(c.now, monotonicNS())
	}
}

func sysNoSys(call) int64 { return -eNOSYS }

func logUnknown(nr uint64) {
	if nr < nrSyscalls {
		if unknownLogged[nr] {
			return
		}
		unknownLogged[nr] = true
	}
	kputs("gomenuos: unimplemented syscall ")
	kputDec(int64(nr))
	kputs(" (ENOSYS)\n")
}

func sysMadviseImpl(c call) int64 {
	if c.a[2] == 4 { // MADV_DONTNEED
		return int64(mm.MadviseDontNeed(c.a[0], c.a[1]))
	}
	return 0 // hints (NOHUGEPAGE, ...) are fine to ignore
}

func sysSchedYieldImpl(c call) int64 {
	c.tf.RAX = 0
	sched.Yield(c.tf, c.now)
	return noReturnVal
}

func sysSchedGetaffinityImpl(c call) int64 {
	if c.a[1] < 8 || !userOK(c.a[2], 8) {
		return -eINVAL
	}
	store64(c.a[2], 1) // one CPU
	return 8
}

func sysGetrandomImpl(c call) int64 {
	if !userOK(c.a[0], c.a[1]) {
		return -eFAULT
	}
	fillRandom(c.a[0], c.a[1])
	return int64(c.a[1])
}

func sysNoTTY(c call) int64 {
	if !fdValid(int(c.a[0])) {
		return -eBADF
	}
	return -eNOTTY
}

func sysEpollWaitImpl(c call) int64 {
	return epollWait(c.tf, int(c.a[0]), c.a[1], int(c.a[2]), int(c.a[3]), c.now)
}

func sysReadImpl(fd int, buf, n uintptr) int64 {
	if !fdValid(fd) {
		return -eBADF
	}
	if !userOK(buf, n) {
		return -eFAULT
	}
	if files[fd].kind == fdEventfd {
		return eventfdRead(fd, buf, n)
	}
	return -eAGAIN
}

func sysWriteImpl(fd int, buf, n uintptr) int64 {
	if !fdValid(fd) {
		return -eBADF
	}
	if !userOK(buf, n) {
		return -eFAULT
	}
	switch files[fd].kind {
	case fdEventfd:
		return eventfdWrite(fd, buf, n)
	case fdConsole:
		for i := uintptr(0); i < n; i++ {
			c := *(*byte)(ptr(buf + i))
			if c == '\n' {
				uart.PutByte('\r')
			}
			uart.PutByte(c)
		}
		return int64(n)
	}
	return -eBADF
}

func sysMmapImpl(addr, length uintptr, prot, flags uint32, fd int32) int64 {
	const mapFixed, mapAnon = 0x10, 0x20
	if flags&mapAnon == 0 || fd != -1 {
		return -eNOSYS // file mappings: nothing to map
	}
	a, err := mm.Mmap(addr, length, prot, flags&mapFixed != 0)
	if err != 0 {
		return int64(err)
	}
	return int64(a)
}

func sysArchPrctlImpl(tf *x86.TrapFrame, code int, addr uintptr) int64 {
	switch code {
	case 0x1002: // ARCH_SET_FS
		tf.FSBase = uint64(addr)
		return 0
	case 0x1003: // ARCH_GET_FS
		if !userOK(addr, 8) {
			return -eFAULT
		}
		store64(addr, tf.FSBase)
		return 0
	}
	return -eINVAL
}

func sysClockGettimeImpl(clk int, ts uintptr) int64 {
	if !userOK(ts, 16) {
		return -eFAULT
	}
	var ns int64
	switch clk {
	case 0, 5, 8, 11: // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
		ns = realtimeNS()
	case 1, 4, 6, 7, 9: // MONOTONIC(_RAW/_COARSE), BOOTTIME(_ALARM)
		ns = monotonicNS()
	case 2, 3: // process/thread CPU time: approximate by the thread's
		ns = sched.Cur().CPUTime + 1
	default:
		return -eINVAL
	}
	store64(ts, uint64(ns/1_000_000_000))
	store64(ts+8, uint64(ns%1_000_000_000))
	return 0
}

func timespecNS(ts uintptr) int64 {
	return int64(load64(ts))*1_000_000_000 + int64(load64(ts+8))
}

func sysNanosleepImpl(tf *x86.TrapFrame, req uintptr, now int64) int64 {
	if !userOK(req, 16) {
		return -eFAULT
	}
	d := timespecNS(req)
	if d <= 0 {
		return 0
	}
	sched.Block(tf, sched.Wait{Kind: sched.WaitSleep, Deadline: now + d}, now)
	return noReturnVal
}

func sysCloneImpl(tf *x86.TrapFrame, flags, stack, tls uint64) int64 {
	const cloneThread, cloneSetTLS = 0x10000, 0x80000
	if flags&cloneThread == 0 {
		return -eNOSYS // only threads: there is one process
	}
	if flags&cloneSetTLS == 0 {
		tls = tf.FSBase
	}
	tid := sched.Clone(tf, stack, tls)
	if tid < 0 {
		return -eAGAIN
	}
	return int64(tid)
}

// Futex operations (Linux: kernel/futex). Only the private WAIT/WAKE pair
// the runtime uses; the clock and private flags are accepted and ignored.
func sysFutexImpl(tf *x86.TrapFrame, addr uintptr, op int, val uint32, timeout uintptr, now int64) int64 {
	if !userOK(addr, 4) || addr&3 != 0 {
		return -eINVAL
	}
	switch op & 0x7F {
	case 0, 9: // FUTEX_WAIT, FUTEX_WAIT_BITSET
		if load32(addr) != val {
			return -eAGAIN
		}
		w := sched.Wait{Kind: sched.WaitFutex, Addr: addr, TimeoutResult: -eTIMEDOUT}
		if timeout != 0 {
			d := timespecNS(timeout)
			if op&0x7F == 9 { // absolute
				d -= now
			}
			if d <= 0 {
				return -eTIMEDOUT
			}
			w.Deadline = now + d
		}
		sched.Block(tf, w, now)
		return noReturnVal
	case 1, 10: // FUTEX_WAKE, FUTEX_WAKE_BITSET
		woken := int64(0)
		for i := 1; i < sched.MaxThreads && woken < int64(val); i++ {
			t := &sched.Table[i]
			if t.State == sched.Blocked && t.Wait.Kind == sched.WaitFutex && t.Wait.Addr == addr {
				sched.Wake(t, 0)
				woken++
			}
		}
		return woken
	}
	return -eNOSYS
}

func sysTgkillImpl(tid int32, sig uint32) int64 {
	if sig == 0 || sig > nSig {
		return -eINVAL
	}
	t := sched.ByTID(tid)
	if t == nil {
		return -3 // ESRCH
	}
	t.SigPending |= sigbit(sig)
	return 0
}

func sysRtSigactionImpl(sig int, act, old uintptr) int64 {
	if sig < 1 || sig > nSig || sig == sigKILL || sig == 19 {
		return -eINVAL
	}
	if old != 0 {
		if !userOK(old, 32) {
			return -eFAULT
		}
		a := sigactions[sig]
		store64(old, a.handler)
		store64(old+8, a.flags)
		store64(old+16, a.restorer)
		store64(old+24, a.mask)
	}
	if act != 0 {
		if !userOK(act, 32) {
			return -eFAULT
		}
		sigactions[sig] = sigaction{load64(act), load64(act + 8), load64(act + 16), load64(act + 24)}
	}
	return 0
}

func sysRtSigprocmaskImpl(how int, set, old uintptr) int64 {
	t := sched.Cur()
	if old != 0 {
		if !userOK(old, 8) {
			return -eFAULT
		}
		store64(old, t.SigMask)
	}
	if set == 0 {
		return 0
	}
	if !userOK(set, 8) {
		return -eFAULT
	}
	m := load64(set) &^ (sigbit(sigKILL) | sigbit(19))
	switch how {
	case 0:
		t.SigMask |= m
	case 1:
		t.SigMask &^= m
	case 2:
		t.SigMask = m
	default:
		return -eINVAL
	}
	return 0
}

func sysSigaltstackImpl(ss, old uintptr) int64 {
	t := sched.Cur()
	if old != 0 {
		if !userOK(old, 24) {
			return -eFAULT
		}
		store64(old, t.AltStackSP)
		flags := uint64(0)
		if t.AltDisabled {
			flags = ssDisable
		}
		store64(old+8, flags)
		store64(old+16, t.AltStackLen)
	}
	if ss != 0 {
		if !userOK(ss, 24) {
			return -eFAULT
		}
		if load32(ss+8)&ssDisable != 0 {
			t.AltDisabled = true
			return 0
		}
		t.AltStackSP, t.AltStackLen, t.AltDisabled = load64(ss), load64(ss+16), false
	}
	return 0
}

// sysPrlimitImpl reports RLIMIT_NOFILE as our fd table size; other limits
// are unlimited.
func sysPrlimitImpl(resource int, old uintptr) int64 {
	if old == 0 {
		return 0
	}
	if !userOK(old, 16) {
		return -eFAULT
	}
	lim := ^uint64(0)
	if resource == 7 { // RLIMIT_NOFILE
		lim = maxFiles
	}
	store64(old, lim)
	store64(old+8, lim)
	return 0
}
