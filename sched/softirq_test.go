package sched

import (
	"testing"
	"unsafe"
)

// resetSoftirq clears the bottom halves and their state between tests.
func resetSoftirq(t *testing.T) {
	t.Helper()
	clearSoftirq()
	t.Cleanup(func() { clearSoftirq(); SoftirqFallback = nil })
}

func clearSoftirq() {
	for i := range softirq.handlers {
		softirq.handlers[i] = nil
	}
	softirq.pending.Store(0)
	softirq.host.Store(nil)
	softirq.running.Store(nil)
	softirqSince = 0
}

// An interrupt with a bottom half goes to the task sleeping as the host:
// it is marked pending, the host's word moves and its thread is woken;
// the host then runs the bottom half on its own goroutine.
func TestRaiseSoftirqWakesTheSleepingHost(t *testing.T) {
	tf := reset(t)
	resetSoftirq(t)
	Clone(tf, 0x7000, 0x9000)
	ran := 0
	RegisterSoftirq(3, func() bool { ran++; return false })
	k := &kernelSleep{}
	k.slot.Store(1)
	seq := k.word.Load()
	Block(tf, Wait{Kind: WaitFutex, Addr: uintptr(unsafe.Pointer(&k.word))}, 100) // thread 1 sleeps; 2 runs
	softirq.host.Store(k)
	if !RaiseSoftirq(3) {
		t.Fatal("the host did not take the interrupt")
	}
	if softirq.pending.Load() != 1<<3 || k.word.Load() == seq || Table[1].State != Runnable {
		t.Fatalf("pending %#x, word moved %v, host thread %v", softirq.pending.Load(), k.word.Load() != seq, Table[1].State)
	}
	if k.runSoftirqs() || ran != 1 || softirq.pending.Load() != 0 {
		t.Fatalf("bottom half ran %d times, pending %#x after", ran, softirq.pending.Load())
	}
}

// Without a host, the interrupt goes to the user task whose thread it
// interrupted — kicked out of user mode if it was there — and to nobody
// otherwise, nor for a source without a bottom half: the caller then
// wakes the driver's goroutine.
func TestRaiseSoftirqWithoutHost(t *testing.T) {
	reset(t)
	resetSoftirq(t)
	RegisterSoftirq(5, func() bool { return false })
	cur := &Table[Current]
	if RaiseSoftirq(5) {
		t.Fatal("taken by a thread that serves no user task")
	}
	cur.Softirqs, cur.User = true, 0x1000
	if RaiseSoftirq(6) {
		t.Fatal("taken for a source without a bottom half")
	}
	if !RaiseSoftirq(5) || !cur.Kick || softirq.pending.Load() != 1<<5 {
		t.Fatalf("user task in user mode: kick %v, pending %#x", cur.Kick, softirq.pending.Load())
	}
	cur.Kick, cur.User = false, 0
	softirq.pending.Store(0)
	if !RaiseSoftirq(5) || cur.Kick {
		t.Fatalf("user task in the kernel: taken, and not kicked (kick %v)", cur.Kick)
	}
}

// A bottom half that wakes another task or a goroutine tells the host,
// which must let them have the P; waking the host itself does not.
func TestRunSoftirqsReportsOthersWoken(t *testing.T) {
	reset(t)
	resetSoftirq(t)
	host, other := &kernelSleep{}, &kernelSleep{}
	ch := make(chan struct{}, 1)
	var wake func()
	RegisterSoftirq(1, func() bool { wake(); return false })
	for _, c := range []struct {
		name string
		fn   func()
		want bool
	}{
		{"the host itself", host.wake, false},
		{"another task", other.wake, true},
		{"a goroutine", func() { kick(ch) }, true},
	} {
		wake = c.fn
		softirq.pending.Store(1 << 1)
		if got := host.runSoftirqs(); got != c.want {
			t.Errorf("waking %s: others woken %v, want %v", c.name, got, c.want)
		}
	}
}

// Bottom halves left pending for 2 ms go to their drivers' goroutines.
func TestSoftirqTickHandsBackWhatNobodyRan(t *testing.T) {
	reset(t)
	resetSoftirq(t)
	var back []int
	SoftirqFallback = func(src int) { back = append(back, src) }
	softirq.pending.Store(1<<2 | 1<<9)
	softirqTick(1_000_000)
	softirqTick(2_900_000)
	if len(back) != 0 {
		t.Fatalf("handed back after 1.9 ms: %v", back)
	}
	softirqTick(3_000_000)
	if len(back) != 2 || back[0] != 2 || back[1] != 9 || softirq.pending.Load() != 0 {
		t.Fatalf("after 2 ms: handed back %v, pending %#x", back, softirq.pending.Load())
	}
}
