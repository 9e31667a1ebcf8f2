package procfs

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Processes in /proc (Linux: fs/proc/base.c, array.c, task_mmu.c): once
// the kernel registers a process source, /proc/<pid> is one directory per
// process — status, stat, statm, cmdline, comm, maps, fd/, exe, cwd — and
// /proc/self names the asking task's process. Without one (host tests),
// /proc/<id> lists the tasks that have descriptor tables.

// ProcInfo is what /proc/<pid> shows of a process.
type ProcInfo struct {
	PID, PPID, PGID, SID int
	TTY                  int    // st_rdev of the controlling terminal, 0 for none
	Comm                 string // the name, at most 15 bytes
	State                byte   // 'R' running, 'S' sleeping, 'Z' zombie
	Cmdline              []string
	Exe, Cwd             string
	Threads              int
	VSize                uint64 // bytes mapped
	RSS                  uint64 // pages resident
	Start                time.Duration
	CPU                  time.Duration
	Files                *fs.FDTable // nil for a zombie
	Maps                 []Mapping
	SigPnd, SigBlk       uint64
	SigIgn, SigCgt       uint64
}

// Mapping is one line of /proc/<pid>/maps.
type Mapping struct {
	Start, End uint64
	Perms      string // "r-xp"
	Offset     uint64
	Ino        uint64
	Path       string // file, [heap], [stack], or ""
}

// ProcessSource is how procfs asks the kernel about processes.
type ProcessSource struct {
	PIDs func() []int
	Info func(pid int) (ProcInfo, bool)
	Self func(t *sched.Task) int // the asking task's process
}

var processes struct {
	mu  sync.Mutex
	src *ProcessSource
}

// SetProcesses makes /proc show processes from src.
func SetProcesses(src ProcessSource) {
	processes.mu.Lock()
	defer processes.mu.Unlock()
	processes.src = &src
}

func processSource() *ProcessSource {
	processes.mu.Lock()
	defer processes.mu.Unlock()
	return processes.src
}

// procPIDDir is /proc/<pid>.
type procPIDDir struct {
	dirOps
	pid int
}

var pidFiles = []string{"cmdline", "comm", "cwd", "exe", "fd", "maps", "stat", "statm", "status"}

func newPIDDir(pid int) *fs.Inode { return newDirInode(0o555, procPIDDir{pid: pid}) }

func (d procPIDDir) info() (ProcInfo, error) {
	src := processSource()
	if src == nil {
		return ProcInfo{}, fs.ENOENT
	}
	pi, ok := src.Info(d.pid)
	if !ok {
		return ProcInfo{}, fs.ENOENT // the process is gone
	}
	return pi, nil
}

func (d procPIDDir) Lookup(_ *fs.Inode, name string) (*fs.Inode, error) {
	pi, err := d.info()
	if err != nil {
		return nil, err
	}
	switch name {
	case "fd":
		if pi.Files == nil {
			return nil, fs.ENOENT
		}
		return newDirInode(0o500, fdDir{procFiles(d.pid)}), nil
	case "exe":
		return newLink(pidLink{pid: d.pid, exe: true}), nil
	case "cwd":
		return newLink(pidLink{pid: d.pid}), nil
	}
	show := map[string]func(io.Writer, ProcInfo){
		"cmdline": showCmdline, "comm": showComm, "maps": showMaps,
		"stat": showStat, "statm": showStatm, "status": showStatus,
	}[name]
	if show == nil {
		return nil, fs.ENOENT
	}
	pid := d.pid
	return fs.NewInode(sb, fs.ModeReg|0o444, nil, seqFops{func(w io.Writer) {
		if pi, err := (procPIDDir{pid: pid}).info(); err == nil {
			show(w, pi)
		}
	}}), nil
}

func (d procPIDDir) Readdir(dir *fs.Inode) ([]fs.Dirent, error) {
	var ents []fs.Dirent
	for _, name := range pidFiles {
		if i, err := d.Lookup(dir, name); err == nil {
			ents = append(ents, fs.Dirent{Name: name, Inode: i})
		}
	}
	return ents, nil
}

// pidLink is /proc/<pid>/exe or cwd.
type pidLink struct {
	noDir
	pid int
	exe bool
}

func (l pidLink) Readlink(*sched.Task, *fs.Inode) (string, error) {
	pi, err := procPIDDir{pid: l.pid}.info()
	if err != nil {
		return "", err
	}
	if l.exe {
		if pi.Exe == "" {
			return "", fs.ENOENT
		}
		return pi.Exe, nil
	}
	return pi.Cwd, nil
}

// procFiles is a process's table, by its PID.
type procFiles int

func (pid procFiles) table() (*fs.FDTable, error) {
	pi, err := procPIDDir{pid: int(pid)}.info()
	if err != nil || pi.Files == nil {
		return nil, fs.ENOENT
	}
	return pi.Files, nil
}

func showCmdline(w io.Writer, pi ProcInfo) {
	for _, a := range pi.Cmdline {
		io.WriteString(w, a)
		w.Write([]byte{0})
	}
}

func showComm(w io.Writer, pi ProcInfo) { fmt.Fprintln(w, pi.Comm) }

// showMaps writes Linux's format: "start-end perms offset dev inode path".
func showMaps(w io.Writer, pi ProcInfo) {
	for _, m := range pi.Maps {
		line := fmt.Sprintf("%08x-%08x %s %08x 00:%02x %d", m.Start, m.End, m.Perms, m.Offset, min(m.Ino, 1), m.Ino)
		if m.Path != "" {
			line = fmt.Sprintf("%-72s %s", line, m.Path)
		}
		fmt.Fprintln(w, line)
	}
}

const clkTck = 100

func ticks(d time.Duration) int64 { return int64(d * clkTck / time.Second) }

// showStat writes the 52 fields of /proc/<pid>/stat (Linux: do_task_stat);
// fields this kernel does not keep are 0.
func showStat(w io.Writer, pi ProcInfo) {
	f := []any{pi.PID, "(" + pi.Comm + ")", string(pi.State), pi.PPID, pi.PGID, pi.SID, pi.TTY, tpgid(pi),
		0, 0, 0, 0, 0, ticks(pi.CPU), 0, 0, 0, 20, 0, pi.Threads, 0, ticks(pi.Start), pi.VSize, pi.RSS}
	f = append(f, make([]any, 52-len(f))...)
	var b strings.Builder
	for i, v := range f {
		if i > 0 {
			b.WriteByte(' ')
		}
		if v == nil {
			v = 0
		}
		fmt.Fprint(&b, v)
	}
	fmt.Fprintln(w, b.String())
}

func tpgid(pi ProcInfo) int {
	if pi.TTY == 0 {
		return -1
	}
	return pi.PGID
}

func showStatm(w io.Writer, pi ProcInfo) {
	fmt.Fprintf(w, "%d %d 0 0 0 0 0\n", pi.VSize/4096, pi.RSS)
}

var stateNames = map[byte]string{'R': "R (running)", 'S': "S (sleeping)", 'Z': "Z (zombie)"}

// showStatus writes the fields of /proc/<pid>/status that ps and people
// read (Linux: proc_pid_status).
func showStatus(w io.Writer, pi ProcInfo) {
	fmt.Fprintf(w, "Name:\t%s\nUmask:\t0022\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n",
		pi.Comm, stateNames[pi.State], pi.PID, pi.PID, pi.PPID)
	fmt.Fprintf(w, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\nGroups:\t\n", fs.MaxFDs)
	if pi.State != 'Z' {
		fmt.Fprintf(w, "VmSize:\t%8d kB\nVmRSS:\t%8d kB\n", pi.VSize>>10, pi.RSS*4)
	}
	fmt.Fprintf(w, "Threads:\t%d\nSigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n",
		pi.Threads, pi.SigPnd, uint64(0), pi.SigBlk, pi.SigIgn, pi.SigCgt)
}
