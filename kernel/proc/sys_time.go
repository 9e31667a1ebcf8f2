package proc

import (
	"encoding/binary"
	"sync"
	"syscall"
	"time"

	"gomenuos/sched"
)

// Time system calls (Linux: kernel/time/).

func init() {
	register(35, "nanosleep", func(t *Thread, a args) (uintptr, error) { return 0, t.nanosleep(a[0], a[1], false, 0) })
	register(37, "alarm", sysAlarm)
	register(36, "getitimer", sysGetitimer)
	register(38, "setitimer", sysSetitimer)
	register(96, "gettimeofday", sysGettimeofday)
	register(100, "times", sysTimes)
	register(201, "time", sysTime)
	register(228, "clock_gettime", sysClockGettime)
	register(229, "clock_getres", sysClockGetres)
	register(230, "clock_nanosleep", func(t *Thread, a args) (uintptr, error) {
		if a[1]&^1 != 0 {
			return 0, syscall.EINVAL
		}
		return 0, t.nanosleep(a[2], a[3], a[1]&1 != 0, int(a[0]))
	})
}

const clkTck = 100

func readTimespec(t *Thread, addr uintptr) (time.Duration, error) {
	var b [16]byte
	if err := t.Proc.MM().CopyFromUser(b[:], addr); err != nil {
		return 0, err
	}
	s, ns := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
	if s < 0 || ns < 0 || ns >= 1e9 {
		return 0, syscall.EINVAL
	}
	return time.Duration(s)*time.Second + time.Duration(ns), nil
}

func writeTimespec(t *Thread, addr uintptr, d time.Duration) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second))
	return t.Proc.MM().CopyToUser(addr, b[:])
}

// clockNow reads a clock as a duration since its epoch.
func clockNow(t *Thread, clk int) (time.Duration, error) {
	switch clk {
	case 0, 5, 8, 11: // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
		return time.Duration(time.Now().UnixNano()), nil
	case 1, 4, 6, 7, 9: // MONOTONIC(_RAW/_COARSE), BOOTTIME(_ALARM)
		return time.Since(bootTime) + time.Second, nil // never 0 at boot
	case 2, 3: // PROCESS_CPUTIME_ID, THREAD_CPUTIME_ID
		return time.Duration(t.Proc.utimeNS.Load()), nil
	}
	return 0, syscall.EINVAL
}

func sysClockGettime(t *Thread, a args) (uintptr, error) {
	d, err := clockNow(t, int(a[0]))
	if err != nil {
		return 0, err
	}
	return 0, writeTimespec(t, a[1], d)
}

func sysClockGetres(t *Thread, a args) (uintptr, error) {
	if _, err := clockNow(t, int(a[0])); err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, nil
	}
	return 0, writeTimespec(t, a[1], time.Nanosecond)
}

func sysGettimeofday(t *Thread, a args) (uintptr, error) {
	if a[0] == 0 {
		return 0, nil
	}
	now := time.Now()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(now.Unix()))
	binary.LittleEndian.PutUint64(b[8:], uint64(now.Nanosecond()/1000))
	return 0, t.Proc.MM().CopyToUser(a[0], b[:])
}

func sysTime(t *Thread, a args) (uintptr, error) {
	now := uintptr(time.Now().Unix())
	if a[0] != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(now))
		if err := t.Proc.MM().CopyToUser(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	return now, nil
}

func sysTimes(t *Thread, a args) (uintptr, error) {
	if a[0] != 0 {
		var b [32]byte
		binary.LittleEndian.PutUint64(b[:], uint64(t.Proc.utimeNS.Load()*clkTck/1e9))
		if err := t.Proc.MM().CopyToUser(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	return uintptr(time.Since(bootTime)*clkTck/time.Second) + 1, nil
}

// nanosleep sleeps interruptibly (Linux: hrtimer_nanosleep). A signal
// ends it with the remaining time written to rem; the call restarts if no
// handler runs (Linux: ERESTART_RESTARTBLOCK).
func (t *Thread) nanosleep(req, rem uintptr, abs bool, clk int) error {
	d, err := readTimespec(t, req)
	if err != nil {
		return err
	}
	if abs {
		now, err := clockNow(t, clk)
		if err != nil {
			return err
		}
		d -= now
	}
	if d <= 0 {
		return nil
	}
	var wq sched.WaitQueue
	left, err := wq.WaitEventInterruptibleTimeout(t.task, func() bool { return false }, d)
	if err == sched.ErrTimedOut {
		return nil
	}
	if rem != 0 && !abs {
		writeTimespec(t, rem, left)
	}
	return errRestartNoHand
}

// itimerState is a process's ITIMER_REAL (Linux: signal_struct's
// real_timer): SIGALRM when it expires, then every interval.
type itimerState struct {
	mu       sync.Mutex
	timer    *time.Timer
	deadline time.Time
	interval time.Duration
}

func (p *Process) setItimer(value, interval time.Duration) (oldValue, oldInterval time.Duration) {
	it := &p.itimer
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.timer != nil {
		it.timer.Stop()
		if left := time.Until(it.deadline); left > 0 {
			oldValue = left
		}
		oldInterval = it.interval
		it.timer = nil
	}
	it.interval = interval
	if value > 0 {
		it.deadline = time.Now().Add(value)
		it.timer = time.AfterFunc(value, p.itimerFire)
	}
	return oldValue, oldInterval
}

func (p *Process) itimerFire() {
	p.sendSignal(sigInfo{signo: sigALRM, code: siKernel})
	it := &p.itimer
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.interval > 0 && it.timer != nil {
		it.deadline = time.Now().Add(it.interval)
		it.timer = time.AfterFunc(it.interval, p.itimerFire)
	}
}

func (p *Process) itimerStop() { p.setItimer(0, 0) }

// itimerCont is where SIGCONT would resume stopped timers; stops are not
// implemented, so there is nothing to do.
func (p *Process) itimerCont() {}

func sysAlarm(t *Thread, a args) (uintptr, error) {
	old, _ := t.Proc.setItimer(time.Duration(a[0])*time.Second, 0)
	return uintptr((old + time.Second - 1) / time.Second), nil
}

// struct itimerval is two timevals: interval, then value.
func readTimeval(b []byte) time.Duration {
	return time.Duration(binary.LittleEndian.Uint64(b))*time.Second +
		time.Duration(binary.LittleEndian.Uint64(b[8:]))*time.Microsecond
}

func putTimeval(b []byte, d time.Duration) {
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
}

func sysSetitimer(t *Thread, a args) (uintptr, error) {
	if a[0] != 0 {
		return 0, syscall.EINVAL // ITIMER_VIRTUAL and ITIMER_PROF are not kept
	}
	var b [32]byte
	if err := t.Proc.MM().CopyFromUser(b[:], a[1]); err != nil {
		return 0, err
	}
	ov, oi := t.Proc.setItimer(readTimeval(b[16:]), readTimeval(b[:]))
	if a[2] != 0 {
		putTimeval(b[:], oi)
		putTimeval(b[16:], ov)
		return 0, t.Proc.MM().CopyToUser(a[2], b[:])
	}
	return 0, nil
}

func sysGetitimer(t *Thread, a args) (uintptr, error) {
	if a[0] != 0 {
		return 0, syscall.EINVAL
	}
	it := &t.Proc.itimer
	it.mu.Lock()
	var b [32]byte
	putTimeval(b[:], it.interval)
	if it.timer != nil {
		putTimeval(b[16:], max(time.Until(it.deadline), 0))
	}
	it.mu.Unlock()
	return 0, t.Proc.MM().CopyToUser(a[1], b[:])
}
