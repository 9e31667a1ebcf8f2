package proc

import (
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Stats are process counters for /proc and the shell.
var Stats struct {
	Syscalls atomic.Uint64
	Forks    atomic.Uint64
	Execs    atomic.Uint64
	Signals  atomic.Uint64
}

var bootTime = time.Now()

func nowNS() int64 { return int64(time.Since(bootTime)) }

// consoleLog is where the kernel reports on processes (segfaults).
func consoleLog() io.Writer { return os.Stderr }

// InitKernel makes pid 1 the kernel's own shell: a process with no
// threads and no memory that adopts orphans and reaps them at once (on
// Linux, pid 1 is MenuOS's /init; here the Go shell plays it). Programs
// the shell starts are its children, in session 1.
func InitKernel(name string, files *fs.FDTable) {
	table.mu.Lock()
	defer table.mu.Unlock()
	p := &Process{PID: 1, comm: name, cmdline: []string{name}, cwd: "/", pgid: 1, sid: 1,
		kernel: true, sig: &sigHand{}, start: nowNS(), ctty: true, files: files}
	table.procs[1] = p
	table.init = p
	table.lastPID = 1
}

// SpawnAttr says how a kernel-started process begins.
type SpawnAttr struct {
	Argv  []string
	Env   []string
	Stdio [3]*fs.File // descriptors 0-2 (the spawner keeps its references)
	Cwd   string
	// NewGroup puts the process in a process group of its own (a shell
	// job); otherwise it joins the init's group.
	NewGroup bool
	// AsInit makes it pid 1 (init=/bin/PROG): orphans go to it.
	AsInit bool
}

// Spawn starts program path as a child of pid 1 (Linux: what a shell's
// fork + execve does, or kernel_init's run_init_process for init).
func Spawn(task *sched.Task, path string, attr SpawnAttr) (*Process, error) {
	cwd := attr.Cwd
	if cwd == "" {
		cwd = "/"
	}
	argv := attr.Argv
	if len(argv) == 0 {
		argv = []string{path}
	}
	prog, err := findProgram(task, cwd, path, argv)
	if err != nil {
		return nil, err
	}
	im, err := loadProgram(prog, attr.Env)
	if err != nil {
		return nil, err
	}
	files := &fs.FDTable{}
	for fd, f := range attr.Stdio {
		if f != nil {
			files.InstallAt(f.Get(), fd)
		}
	}
	p := &Process{cwd: cwd, umask: 0o022, files: files, sig: &sigHand{}, start: nowNS(),
		exitSignal: sigCHLD, ctty: true}
	if err := registerSpawned(p, attr); err != nil {
		im.mm.Put(dropRoot)
		files.CloseAll()
		return nil, err
	}
	t := newThread(p, p.PID, nil)
	p.threads = []*Thread{t}
	t.install(im, prog)
	Stats.Execs.Add(1)
	t.start()
	return p, nil
}

// registerSpawned gives a spawned process its PID, parent, group and session.
func registerSpawned(p *Process, attr SpawnAttr) error {
	table.mu.Lock()
	defer table.mu.Unlock()
	if table.nthreads >= MaxThreads {
		return syscall.EAGAIN
	}
	if attr.AsInit {
		if old := table.init; old != nil && !old.kernel {
			return syscall.EBUSY
		}
		p.PID = 1
		table.init = p
	} else if p.PID = allocPIDLocked(); p.PID == 0 {
		return syscall.EAGAIN
	}
	table.nthreads++
	p.parent = table.init
	if p.parent == p {
		p.parent = nil
	}
	p.pgid, p.sid = 1, 1
	if attr.NewGroup {
		p.pgid = p.PID
	}
	if p.parent != nil {
		p.parent.children = append(p.parent.children, p)
	}
	table.procs[p.PID] = p
	return nil
}
