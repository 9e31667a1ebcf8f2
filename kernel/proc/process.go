// Package proc runs user processes on the Linux x86-64 ABI (Linux:
// kernel/fork.c, kernel/exit.c, kernel/signal.c, and the system calls of
// fs/, mm/ and kernel/ that processes make).
//
// A user thread is served by a goroutine locked to one kernel thread (a
// runtime M): the goroutine enters ring 3 through the SysRunUser syscall
// and gets control back when the thread makes a system call, takes a fault
// the trap handler could not resolve, or is kicked by a signal. It then
// serves the request as ordinary Go code — allocating, sleeping on wait
// queues, calling the VFS and the network stack — and enters ring 3 again.
// So a process blocked in read(2) is a goroutine asleep on a wait queue,
// exactly where Linux's task would sleep.
package proc

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"gomenuos/fs"
	"gomenuos/kernel/mm"
	"gomenuos/sched"
)

// Limits.
const (
	// MaxThreads bounds user threads system-wide (each holds a kernel
	// thread): a fork bomb gets EAGAIN and the kernel keeps serving
	// (Linux: RLIMIT_NPROC, threads-max).
	MaxThreads = 256
	pidMax     = 32768 // Linux: /proc/sys/kernel/pid_max default
	commLen    = 15    // Linux: TASK_COMM_LEN - 1
)

// Process is one user process (Linux: the thread group of task_structs
// sharing a signal_struct, and its mm_struct and files_struct).
//
// Lock contract: table.mu (the tasklist lock) guards parent, children,
// pgid, sid, state, exitStatus, and the pid table. p.mu guards threads,
// comm, cmdline, exe, cwd, the signal state (sig, pending) and mm
// replacement by execve. Order: table.mu before p.mu.
type Process struct {
	PID int

	mu       sync.Mutex
	threads  []*Thread
	comm     string
	cmdline  []string
	exe      string
	cwd      string
	umask    uint32
	mmPtr    atomic.Pointer[mm.MM] // the address space; nil once exited (readers need no lock)
	files    *fs.FDTable
	sig      *sigHand    // handlers, shared with CLONE_SIGHAND
	pending  sigPending  // process-directed pending signals
	exiting  bool        // exit_group or a fatal signal: threads leave
	groupExt int         // the wait status exit_group chose
	itimer   itimerState // ITIMER_REAL (alarm, setitimer)

	parent     *Process
	children   []*Process
	pgid, sid  int
	state      procState
	exitStatus int // wait(2) status once a zombie
	childWait  sched.WaitQueue
	start      int64 // monotonic ns at creation
	utimeNS    atomic.Int64
	vforkDone  chan struct{} // closed when a vfork child execs or exits
	execDone   bool
	ctty       bool // the console is its controlling terminal
	kernel     bool // the kernel's own pid 1 (the Go shell): no threads, no memory
	exitSignal int  // sent to the parent at exit (SIGCHLD, or clone's choice)
}

type procState uint8

const (
	procAlive procState = iota
	procZombie
	procReaped
)

// table is the process table (Linux: the pid hash and tasklist_lock).
var table struct {
	mu       sync.Mutex
	procs    map[int]*Process
	lastPID  int
	nthreads int // user threads alive
	init     *Process
}

func init() { table.procs = map[int]*Process{} }

// allocPIDLocked returns a free process ID (Linux: alloc_pid), 0 if none.
func allocPIDLocked() int {
	for i := 0; i < pidMax; i++ {
		table.lastPID++
		if table.lastPID >= pidMax {
			table.lastPID = 2 // 1 is init's
		}
		if _, used := table.procs[table.lastPID]; !used && !tidUsedLocked(table.lastPID) {
			return table.lastPID
		}
	}
	return 0
}

// tidUsedLocked reports whether a thread (not a group leader) has id.
func tidUsedLocked(id int) bool {
	for _, p := range table.procs {
		for _, t := range p.threadsSnapshot() {
			if t.TID == id {
				return true
			}
		}
	}
	return false
}

// Lookup returns the live or zombie process with pid.
func Lookup(pid int) *Process {
	table.mu.Lock()
	defer table.mu.Unlock()
	return table.procs[pid]
}

// All returns every process, sorted by PID.
func All() []*Process {
	table.mu.Lock()
	defer table.mu.Unlock()
	out := make([]*Process, 0, len(table.procs))
	for _, p := range table.procs {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// Comm is the process's name (Linux: task->comm, the executable's base
// name cut to 15 bytes).
func (p *Process) Comm() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.comm
}

// Cmdline is argv of the running program.
func (p *Process) Cmdline() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.cmdline...)
}

// Exe is the path of the running program.
func (p *Process) Exe() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exe
}

// Cwd is the working directory.
func (p *Process) Cwd() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cwd
}

// Files is the descriptor table.
func (p *Process) Files() *fs.FDTable {
	p.mu.Lock()
	ft := p.files
	p.mu.Unlock() // no defer: every read and write of a process passes here
	return ft
}

// MM is the address space (nil once the process has exited).
func (p *Process) MM() *mm.MM { return p.mmPtr.Load() }

// IDs returns the parent's PID, the process group and the session.
func (p *Process) IDs() (ppid, pgid, sid int) {
	table.mu.Lock()
	defer table.mu.Unlock()
	if p.parent != nil {
		ppid = p.parent.PID
	}
	return ppid, p.pgid, p.sid
}

// State is the one-letter state ps shows: R running, S sleeping, Z zombie.
func (p *Process) State() string {
	table.mu.Lock()
	st := p.state
	table.mu.Unlock()
	if st != procAlive {
		return "Z"
	}
	if p.kernel {
		return "S"
	}
	for _, t := range p.threadsSnapshot() {
		if t.running.Load() {
			return "R"
		}
	}
	return "S"
}

// Threads returns the process's threads.
func (p *Process) Threads() []*Thread { return p.threadsSnapshot() }

func (p *Process) threadsSnapshot() []*Thread {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Thread(nil), p.threads...)
}

// setComm names the process after the program's base name.
func (p *Process) setCommLocked(path string) {
	base := path
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			base = path[i+1:]
			break
		}
	}
	if len(base) > commLen {
		base = base[:commLen]
	}
	p.comm = base
}

func (p *Process) String() string { return fmt.Sprintf("%s[%d]", p.Comm(), p.PID) }
