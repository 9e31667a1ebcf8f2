package linux

// CPU-time interval timers: the two ways the runtime's CPU profiler asks
// for SIGPROF. runtime.SetCPUProfileRate arms the process-wide
// setitimer(ITIMER_PROF) and, on every M, a POSIX timer on the thread's
// own CPU clock that signals that thread (timer_create with
// CLOCK_THREAD_CPUTIME_ID and SIGEV_THREAD_ID); it keeps the signals of
// the latter (si_code SI_TIMER) on threads that have one and those of the
// former (SI_KERNEL) elsewhere (runtime.validSIGPROF).
//
// Expiry is checked where Linux checks it, on each timer tick
// (run_posix_cpu_timers), and the signal is delivered on the way out of
// that trap, so the sample lands where the tick interrupted Go code. Ticks
// cannot interrupt our system calls (they run with interrupts off), so a
// system call's exit also fires the timers that expired during the call:
// that sample lands at the call's return in the runtime's wrapper, where
// Linux's would for a tick inside the call. Resolution is the tick (1 ms);
// the profiler's default period is 10 ms.
//
// Linux: kernel/time/posix-timers.c, posix-cpu-timers.c, itimer.c.
//
// Trap context: no allocation, no panics, fixed tables only.

import "gomenuos/sched"

// Syscall numbers.
const (
	sysGetitimer       = 36
	sysSetitimer       = 38
	sysTimerCreate     = 222
	sysTimerSettime    = 223
	sysTimerGettime    = 224
	sysTimerGetoverrun = 225
	sysTimerDelete     = 226
)

const (
	sigPROF         = 27
	siTimer         = -2   // si_code of a POSIX timer's signal
	siKernel        = 0x80 // si_code of setitimer's SIGPROF
	itimerProf      = 2
	clockProcessCPU = 2
	clockThreadCPU  = 3
	sigevSignal     = 0
	sigevNone       = 1
	sigevThreadID   = 4
	timerAbstime    = 1
	maxTimers       = 64 // per machine: one per M is what the profiler uses
)

// cpuTimer is one armed CPU-time timer. expires and interval are in ns of
// the clock's CPU time; expires == 0 means disarmed.
type cpuTimer struct {
	used     bool
	clock    int32 // clockProcessCPU or clockThreadCPU
	clockTID int32 // whose CPU time a thread clock counts
	notify   int32
	signo    uint32
	target   int32 // thread to signal (SIGEV_THREAD_ID); 0: whoever runs
	expires  int64
	interval int64
	overrun  int32
}

var (
	timers    [maxTimers]cpuTimer
	profTimer cpuTimer // setitimer(ITIMER_PROF): process CPU time, SI_KERNEL
	armed     int      // armed entries of timers, plus one for profTimer

	// profCode and profID describe the pending SIGPROF of each thread
	// slot (the siginfo's si_code and timer id).
	profCode [sched.MaxThreads]int32
	profID   [sched.MaxThreads]int32
)

// threadCPU is the CPU time of thread slot i at now.
func threadCPU(i int, now int64) int64 {
	t := &sched.Table[i]
	if i == sched.Current {
		return t.CPUTime + now - t.SliceStart
	}
	return t.CPUTime
}

// processCPU is the time any thread but the idle one ran since boot
// (monotonicNS starts at one second).
func processCPU(now int64) int64 {
	return now - 1_000_000_000 - threadCPU(0, now)
}

// threadSlot returns the table index of the live thread tid, or -1.
func threadSlot(tid int32) int {
	if sched.Table[sched.Current].TID == tid {
		return sched.Current
	}
	for i := 1; i < sched.MaxThreads; i++ {
		if sched.Table[i].State != sched.Free && sched.Table[i].TID == tid {
			return i
		}
	}
	return -1
}

// timerNow is the current value of t's clock.
func timerNow(t *cpuTimer, now int64) int64 {
	if t.clock == clockProcessCPU {
		return processCPU(now)
	}
	i := threadSlot(t.clockTID)
	if i < 0 {
		return 0
	}
	return threadCPU(i, now)
}

// runPosixCPUTimers fires every expired timer on the running thread's and
// the process's CPU clocks (Linux: run_posix_cpu_timers from the tick).
func runPosixCPUTimers(now int64) {
	if armed == 0 || sched.IsIdle() {
		return
	}
	cur := sched.Cur()
	for id := range timers {
		t := &timers[id]
		if t.expires == 0 || (t.clock == clockThreadCPU && t.clockTID != cur.TID) {
			continue
		}
		if timerNow(t, now) >= t.expires {
			fireTimer(t, int32(id), now)
		}
	}
	if profTimer.expires != 0 && processCPU(now) >= profTimer.expires {
		fireTimer(&profTimer, -1, now)
	}
}

// runSyscallCPUTimers fires the running thread's and the process's
// timers that expired between a system call's entry (then) and its exit
// (now), the interval no tick could see.
func runSyscallCPUTimers(then, now int64) {
	if sched.IsIdle() {
		return
	}
	cur := sched.Cur()
	for id := range timers {
		t := &timers[id]
		if t.expires == 0 || (t.clock == clockThreadCPU && t.clockTID != cur.TID) {
			continue
		}
		if t.expires > timerNow(t, then) && timerNow(t, now) >= t.expires {
			fireTimer(t, int32(id), now)
		}
	}
	if p := &profTimer; p.expires != 0 && p.expires > processCPU(then) && processCPU(now) >= p.expires {
		fireTimer(p, -1, now)
	}
}

// fireTimer signals t's target and re-arms or disarms it.
func fireTimer(t *cpuTimer, id int32, now int64) {
	cur := timerNow(t, now)
	if t.interval > 0 {
		n := (cur-t.expires)/t.interval + 1
		t.expires += n * t.interval
		t.overrun = int32(min(n-1, 1<<30))
	} else {
		t.expires = 0
		armed--
	}
	if t.notify == sigevNone {
		return
	}
	slot := sched.Current
	if t.target != 0 {
		if slot = threadSlot(t.target); slot < 0 {
			return
		}
	}
	code := int32(siTimer)
	if id < 0 {
		code = siKernel
	}
	sendTimerSignal(slot, t.signo, code, id)
}

// sendTimerSignal makes sig pending on thread slot with code. A pending
// per-thread SIGPROF is not downgraded to the process timer's: the
// runtime would drop the latter on a thread with its own timer.
func sendTimerSignal(slot int, sig uint32, code, id int32) {
	th := &sched.Table[slot]
	if sig == sigPROF {
		if th.SigPending&sigbit(sig) != 0 && profCode[slot] == siTimer && code != siTimer {
			return
		}
		profCode[slot], profID[slot] = code, id
	}
	th.SigPending |= sigbit(sig)
}

// signalInfo returns si_code and the value for siginfo's first union word
// of a pending signal about to be delivered to thread slot.
func signalInfo(slot int, sig uint32) (int32, uint64) {
	if sig == sigPROF && profCode[slot] != 0 {
		code, id := profCode[slot], profID[slot]
		profCode[slot] = 0
		if code == siTimer {
			return code, uint64(uint32(id))
		}
		return code, 0
	}
	return siTkill, 0
}

// sysTimerCreateImpl: timer_create(clockid, sevp, timerid).
func sysTimerCreateImpl(clockID int32, sevp, idp uintptr) int64 {
	if clockID != clockThreadCPU && clockID != clockProcessCPU {
		return -eINVAL
	}
	if !userOK(idp, 4) || (sevp != 0 && !userOK(sevp, 20)) {
		return -eFAULT
	}
	t := cpuTimer{used: true, clock: clockID, clockTID: sched.Cur().TID, notify: sigevSignal, signo: 14} // SIGALRM
	if sevp != 0 {
		t.signo, t.notify = load32(sevp+8), int32(load32(sevp+12))
		switch t.notify {
		case sigevThreadID:
			t.target = int32(load32(sevp + 16))
			if threadSlot(t.target) < 0 {
				return -eINVAL
			}
		case sigevSignal, sigevNone:
		default:
			return -eINVAL // SIGEV_THREAD is a libc construct
		}
		if t.notify != sigevNone && (t.signo == 0 || t.signo > nSig) {
			return -eINVAL
		}
	}
	id := freeTimer()
	if id < 0 {
		return -eAGAIN
	}
	timers[id] = t
	store32(idp, uint32(id))
	return 0
}

// freeTimer returns an unused slot, reclaiming timers whose clock or
// target thread has exited (the runtime never deletes those).
func freeTimer() int {
	for id := range timers {
		t := &timers[id]
		if t.used && (threadSlot(t.clockTID) < 0 || (t.target != 0 && threadSlot(t.target) < 0)) {
			deleteTimer(id)
		}
		if !t.used {
			return id
		}
	}
	return -1
}

func timerByID(id int32) *cpuTimer {
	if id < 0 || id >= maxTimers || !timers[id].used {
		return nil
	}
	return &timers[id]
}

func deleteTimer(id int) {
	if timers[id].expires != 0 {
		armed--
	}
	timers[id] = cpuTimer{}
}

// sysTimerSettimeImpl: timer_settime(id, flags, new, old); itimerspec is
// {interval, value} as two timespecs.
func sysTimerSettimeImpl(id int32, flags int, newp, oldp uintptr, now int64) int64 {
	t := timerByID(id)
	if t == nil {
		return -eINVAL
	}
	if !userOK(newp, 32) || (oldp != 0 && !userOK(oldp, 32)) {
		return -eFAULT
	}
	interval, value := timespecNS(newp), timespecNS(newp+16)
	if interval < 0 || value < 0 || load64(newp+8) >= 1e9 || load64(newp+24) >= 1e9 {
		return -eINVAL
	}
	if oldp != 0 {
		storeTimerSpec(oldp, t, now, 1)
	}
	if value != 0 && flags&timerAbstime == 0 {
		value += timerNow(t, now)
	}
	armTimer(t, value, interval)
	return 0
}

// sysTimerGettimeImpl: timer_gettime(id, cur).
func sysTimerGettimeImpl(id int32, curp uintptr, now int64) int64 {
	t := timerByID(id)
	if t == nil {
		return -eINVAL
	}
	if !userOK(curp, 32) {
		return -eFAULT
	}
	storeTimerSpec(curp, t, now, 1)
	return 0
}

// sysTimerGetoverrunImpl: timer_getoverrun(id), the expirations missed
// before the last signal was sent.
func sysTimerGetoverrunImpl(id int32) int64 {
	t := timerByID(id)
	if t == nil {
		return -eINVAL
	}
	return int64(t.overrun)
}

// sysTimerDeleteImpl: timer_delete(id).
func sysTimerDeleteImpl(id int32) int64 {
	if timerByID(id) == nil {
		return -eINVAL
	}
	deleteTimer(int(id))
	return 0
}

// armTimer sets t to fire at the absolute clock value expires (0:
// disarm), then every interval ns.
func armTimer(t *cpuTimer, expires, interval int64) {
	if t.expires != 0 {
		armed--
	}
	t.expires, t.interval, t.overrun = expires, interval, 0
	if expires != 0 {
		armed++
	}
}

// storeTimerSpec writes t's interval and remaining time as two
// {sec, sub-second} pairs; unit is 1 for timespec, 1000 for timeval.
func storeTimerSpec(p uintptr, t *cpuTimer, now int64, unit int64) {
	left := int64(0)
	if t.expires != 0 {
		left = max(t.expires-timerNow(t, now), 1)
	}
	store64(p, uint64(t.interval/1e9))
	store64(p+8, uint64(t.interval%1e9/unit))
	store64(p+16, uint64(left/1e9))
	store64(p+24, uint64(left%1e9/unit))
}

// sysSetitimerImpl: setitimer(which, new, old) for ITIMER_PROF; itimerval
// is {interval, value} as two timevals.
func sysSetitimerImpl(which int, newp, oldp uintptr, now int64) int64 {
	if which != itimerProf {
		return -eINVAL
	}
	if (newp != 0 && !userOK(newp, 32)) || (oldp != 0 && !userOK(oldp, 32)) {
		return -eFAULT
	}
	profTimer.used, profTimer.clock, profTimer.signo, profTimer.notify = true, clockProcessCPU, sigPROF, sigevSignal
	if oldp != 0 {
		storeTimerSpec(oldp, &profTimer, now, 1000)
	}
	if newp == 0 {
		return 0
	}
	interval := int64(load64(newp))*1e9 + int64(load64(newp+8))*1000
	value := int64(load64(newp+16))*1e9 + int64(load64(newp+24))*1000
	if interval < 0 || value < 0 || load64(newp+8) >= 1e6 || load64(newp+24) >= 1e6 {
		return -eINVAL
	}
	if value != 0 {
		value += processCPU(now)
	}
	armTimer(&profTimer, value, interval)
	return 0
}

// sysGetitimerImpl: getitimer(which, cur).
func sysGetitimerImpl(which int, curp uintptr, now int64) int64 {
	if which != itimerProf {
		return -eINVAL
	}
	if !userOK(curp, 32) {
		return -eFAULT
	}
	storeTimerSpec(curp, &profTimer, now, 1000)
	return 0
}
