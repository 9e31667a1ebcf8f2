package sched

import (
	"testing"

	"gomenuos/arch/x86"
)

// These tests drive the trap-context scheduler with ordinary memory: a
// "trap" is just a TrapFrame the scheduler rewrites.

func reset(t *testing.T) *x86.TrapFrame {
	t.Helper()
	Table = [MaxThreads]Thread{}
	runq.head, runq.tail = 0, 0
	nextTID = 1
	Init(0x1000, 0)
	return &x86.TrapFrame{RIP: 0xb007, RAX: 1}
}

func TestCloneCopiesFrameWithZeroRAXNewStackAndTLS(t *testing.T) {
	tf := reset(t)
	tf.RBX, tf.R13 = 7, 13
	tid := Clone(tf, 0x7000, 0x9000)
	if tid != 2 {
		t.Fatalf("tid %d", tid)
	}
	c := ByTID(tid)
	if c.Frame.RAX != 0 || c.Frame.RSP != 0x7000 || c.Frame.FSBase != 0x9000 || c.Frame.RBX != 7 || c.Frame.R13 != 13 || c.Frame.RIP != 0xb007 {
		t.Fatalf("child frame %+v", c.Frame)
	}
	if c.State != Runnable || RunqLen() != 1 {
		t.Fatalf("child %v, runq %d", c.State, RunqLen())
	}
}

// switchTo saves the running thread's registers and resumes the next
// thread's exactly; Wake's result appears in the sleeper's RAX.
func TestBlockSwitchesAndWakeDeliversResult(t *testing.T) {
	tf := reset(t)
	Clone(tf, 0x7000, 0x9000)
	tf.RIP, tf.RAX = 0x1111, 202
	Block(tf, Wait{Kind: WaitFutex, Addr: 0x40}, 100)
	if Current != 2 || tf.RSP != 0x7000 || tf.FSBase != 0x9000 || tf.RAX != 0 {
		t.Fatalf("did not switch to the child: cur %d frame %+v", Current, tf)
	}
	boot := &Table[1]
	if boot.State != Blocked || boot.Frame.RIP != 0x1111 {
		t.Fatalf("boot thread not saved: %v %+v", boot.State, boot.Frame)
	}
	Wake(boot, 0)
	// The child's slice is not over, so the boot thread waits its turn.
	Reschedule(tf, 200)
	if Current != 2 {
		t.Fatal("preempted before the slice ended")
	}
	Reschedule(tf, 100+SliceNS)
	if Current != 1 || tf.RIP != 0x1111 || tf.RAX != 0 {
		t.Fatalf("boot thread not resumed with RAX=0: cur %d frame %+v", Current, tf)
	}
	if Stats.Preemptions == 0 {
		t.Fatal("preemption not counted")
	}
}

// With nothing runnable the idle thread runs; a deadline passing in Tick
// wakes the sleeper with its timeout result and takes the CPU from idle.
func TestIdleAndTimeout(t *testing.T) {
	tf := reset(t)
	Block(tf, Wait{Kind: WaitSleep, Deadline: 5000, TimeoutResult: -110}, 0)
	if !IsIdle() || tf.RIP != uint64(x86.IdleLoopPC()) || tf.RFLAGS&x86.FlagIF == 0 {
		t.Fatalf("idle not running: %+v", tf)
	}
	Tick(tf, 4999)
	if !IsIdle() {
		t.Fatal("woke before the deadline")
	}
	Tick(tf, 5000)
	if Current != 1 || int64(tf.RAX) != -110 {
		t.Fatalf("cur %d RAX %d", Current, int64(tf.RAX))
	}
}

func TestExitFreesSlotAndRunsNext(t *testing.T) {
	tf := reset(t)
	tid := Clone(tf, 0x7000, 0x9000)
	Exit(tf, 10)
	if Table[1].State != Free || Cur().TID != tid || NumThreads() != 1 {
		t.Fatalf("after exit: cur %d threads %d", Cur().TID, NumThreads())
	}
	if got := Clone(tf, 0x8000, 0); ByTID(got) != &Table[1] {
		t.Fatal("freed slot not reused")
	}
}
