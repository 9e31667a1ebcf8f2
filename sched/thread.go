package sched

// Kernel threads: the Go runtime's Ms. A thread's whole user-visible state
// is one saved x86.TrapFrame (registers, FXSAVE image, FS base); the
// kernel never keeps a half-finished syscall on a stack, so a blocked
// thread is just a frame plus what it waits for, and whoever wakes it
// writes the syscall's result into the frame's RAX.
//
// Trap context only (the functions below run with interrupts off, on a
// kernel stack, with a fake g): no allocation, no panics, no Go pointers
// stored into these tables.

import (
	"unsafe"

	"gomenuos/arch/x86"
)

// MaxThreads bounds the thread table (the idle thread included): the
// runtime's Ms, one of which backs each user thread.
const MaxThreads = 512

const kstackSize = 16 << 10

// State is a thread's scheduling state.
type State uint8

// Thread states.
const (
	Free State = iota
	Runnable
	Running
	Blocked
)

var stateNames = [...]string{"free", "runnable", "running", "blocked"}

func (s State) String() string { return stateNames[s] }

// WaitKind says what a blocked thread waits for.
type WaitKind uint8

// Wait kinds.
const (
	WaitNone WaitKind = iota
	WaitFutex
	WaitSleep
	WaitEpoll
)

var waitNames = [...]string{"-", "futex", "sleep", "epoll"}

func (w WaitKind) String() string { return waitNames[w] }

// Wait describes what a blocked thread waits for.
type Wait struct {
	Kind          WaitKind
	Addr          uintptr // futex word, or the epoll event buffer
	Obj           int32   // epoll fd
	Max           int32   // epoll maxevents
	Deadline      int64   // monotonic ns; 0 = none
	TimeoutResult int64   // RAX when the deadline passes first
}

// Thread is one kernel thread.
type Thread struct {
	Frame     x86.TrapFrame
	State     State
	TID       int32
	KStackTop uint64
	Wait      Wait

	// Signal state (Linux: task_struct.blocked, .pending, .sas_ss_*).
	SigMask     uint64
	SigPending  uint64
	AltStackSP  uint64
	AltStackLen uint64
	AltDisabled bool

	SliceStart int64 // ns when the thread last got the CPU
	Switches   uint64
	CPUTime    int64 // ns spent running
	UserTime   int64 // of which in ring 3

	// User mode (a user thread's goroutine is locked to this thread).
	User   uintptr // the *UserContext while its registers are in the CPU (ring 3), else 0
	CR3    uint64  // page-table root this thread runs with; 0: whichever is loaded
	UserGS uint64  // the user's GS base (in MSR_KERNEL_GS_BASE while in ring 0)
	Kick   bool    // leave user mode at the next chance (a signal, a kill)
	// UserTask: the thread's goroutine serves a user task (SetUserTask);
	// Softirqs: it runs device bottom halves raised while it runs
	// (softirq.go).
	UserTask, Softirqs bool
}

// VectorKick is the Regs.Vector of a UserContext that left user mode (or
// never entered it) because the thread was kicked.
const VectorKick = 257

// UserContext is a user thread's register file while the kernel works
// for it, and the goroutine's own while the user code runs: SysRunUser
// swaps them (Linux keeps the user's registers in pt_regs at the top of
// the kernel stack; here the goroutine that serves the thread owns them).
// It lives in the Go heap, pinned by that goroutine; trap context reaches
// it through Thread.User as an integer.
type UserContext struct {
	Regs   x86.TrapFrame // the user's registers: loaded on entry, saved on exit
	Kernel x86.TrapFrame // the goroutine's frame at its SysRunUser while user code runs, when KernelFrame is 0
	CR2    uint64        // faulting address of the last #PF
	CR3    uint64        // the process's page-table root
	GSBase uint64        // the user's GS base
	MM     uintptr       // the *mm.MM, for the trap-context fault handler
	Time   int64         // ns in user mode, accumulated on each exit
	// KernelFrame is the address of the goroutine's frame at its
	// SysRunUser, left where the SYSCALL built it at the top of the
	// thread's kernel stack while user code runs (the thread's traps from
	// ring 3 land below it meanwhile); 0 when it was copied to Kernel.
	KernelFrame uintptr

	// What the trap handler may answer itself, without the goroutine
	// (getpid, getppid, gettid): kept current by the process code.
	PID, PPID, TID int32
	Slow           bool // every system call goes to the goroutine (strace)
}

// Table is the thread table. Index 0 is the boot CPU's idle thread.
var Table [MaxThreads]Thread

var kstacks [MaxThreads][kstackSize]byte

// idleStack is what the idle loop runs on (it pushes nothing); its kernel
// stack takes the traps that interrupt it.
var idleStack [256]byte

// Current is the index of the thread running on the (only) CPU.
var Current int

// Stats are scheduler counters for /proc and benchmarks.
var Stats struct {
	Switches    uint64
	MMSwitches  uint64 // switches that loaded another page-table tree
	Preemptions uint64
	Clones      uint64
	Exits       uint64
}

var nextTID int32 = 1

// runq is a FIFO of runnable thread indexes (Linux: the rq of a CPU).
var runq struct {
	q          [MaxThreads]int32
	head, tail uint32
}

func enqueue(i int) {
	runq.q[runq.tail%MaxThreads] = int32(i)
	runq.tail++
}

func dequeue() int {
	if runq.head == runq.tail {
		return -1
	}
	i := int(runq.q[runq.head%MaxThreads])
	runq.head++
	return i
}

// RunqLen reports how many threads wait for the CPU.
func RunqLen() int { return int(runq.tail - runq.head) }

// kernelFS is the FS base trap-context and idle code runs with.
var kernelFS uint64

// Init makes slot 0 the idle thread and slot 1 the boot thread (the
// runtime's m0), which is running. idleStackTop is the idle thread's stack.
func Init(kfs uint64, now int64) {
	kernelFS = kfs
	idle := &Table[0]
	idle.State = Runnable
	idle.KStackTop = stackTop(0)
	f := &idle.Frame
	f.RIP = uint64(x86.IdleLoopPC())
	f.CS = x86.KernelCS
	f.SS = x86.KernelDS
	f.RFLAGS = x86.FlagIF | 2
	f.RSP = uint64(uintptr(unsafe.Pointer(&idleStack[len(idleStack)-64]))) &^ 15
	f.FSBase = kfs
	initFX(&f.FX)

	boot := &Table[1]
	boot.State = Running
	boot.TID = nextTID
	nextTID++
	boot.KStackTop = stackTop(1)
	boot.AltDisabled = true
	boot.SliceStart = now
	idle.SliceStart = now
	Current = 1
	x86.BootCPU.SetKernelStack(boot.KStackTop)
}

// initFX gives a fresh FXSAVE image the power-on defaults: FCW 0x37F and
// MXCSR 0x1F80 (all exceptions masked).
func initFX(fx *[512]byte) {
	fx[0], fx[1] = 0x7F, 0x03
	*(*uint32)(unsafe.Pointer(&fx[24])) = 0x1F80
	*(*uint32)(unsafe.Pointer(&fx[28])) = 0xFFFF
}

func stackTop(i int) uint64 {
	return uint64(uintptr(unsafe.Pointer(&kstacks[i][kstackSize-16])))
}

// Cur returns the running thread.
func Cur() *Thread { return &Table[Current] }

// IsIdle reports whether the idle thread is running.
func IsIdle() bool { return Current == 0 }

// Clone creates a thread that starts as a copy of the frame tf (the
// parent's registers at its SYSCALL) with RAX = 0, the given stack and TLS
// (Linux: copy_thread with CLONE_SETTLS). It returns the new TID or -1.
func Clone(tf *x86.TrapFrame, stack, tls uint64) int32 {
	for i := 1; i < MaxThreads; i++ {
		t := &Table[i]
		if t.State != Free {
			continue
		}
		*t = Thread{}
		t.Frame = *tf
		t.Frame.RAX = 0
		t.Frame.RSP = stack
		t.Frame.FSBase = tls
		t.TID = nextTID
		nextTID++
		t.KStackTop = stackTop(i)
		t.SigMask = Table[Current].SigMask
		t.AltDisabled = true
		t.State = Runnable
		enqueue(i)
		Stats.Clones++
		return t.TID
	}
	return -1
}

// ByTID finds a live thread.
func ByTID(tid int32) *Thread {
	for i := 1; i < MaxThreads; i++ {
		if Table[i].State != Free && Table[i].TID == tid {
			return &Table[i]
		}
	}
	return nil
}

// NumThreads counts live threads (idle excluded).
func NumThreads() int {
	n := 0
	for i := 1; i < MaxThreads; i++ {
		if Table[i].State != Free {
			n++
		}
	}
	return n
}
