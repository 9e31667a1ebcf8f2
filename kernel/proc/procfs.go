package proc

import (
	"time"

	"gomenuos/fs/procfs"
	"gomenuos/kernel/mm"
	"gomenuos/sched"
)

// What /proc/<pid> shows (Linux: fs/proc/array.c, task_mmu.c).

// RegisterProcfs makes /proc list the processes.
func RegisterProcfs() {
	procfs.SetProcesses(procfs.ProcessSource{
		PIDs: func() []int {
			var pids []int
			for _, p := range All() {
				pids = append(pids, p.PID)
			}
			return pids
		},
		Info: func(pid int) (procfs.ProcInfo, bool) {
			p := Lookup(pid)
			if p == nil {
				return procfs.ProcInfo{}, false
			}
			return p.info(), true
		},
		Self: func(t *sched.Task) int {
			if p := ByTask(t); p != nil {
				return p.PID
			}
			return 1
		},
	})
}

// ByTask returns the process whose thread has task t.
func ByTask(t *sched.Task) *Process {
	if t == nil {
		return nil
	}
	for _, p := range All() {
		for _, th := range p.threadsSnapshot() {
			if th.task == t {
				return p
			}
		}
	}
	return nil
}

func (p *Process) info() procfs.ProcInfo {
	ppid, pgid, sid := p.IDs()
	pi := procfs.ProcInfo{PID: p.PID, PPID: ppid, PGID: pgid, SID: sid, State: p.State()[0],
		Start: time.Duration(p.start), CPU: time.Duration(p.utimeNS.Load())}
	p.mu.Lock()
	pi.Comm, pi.Cmdline, pi.Exe, pi.Cwd = p.comm, p.cmdline, p.exe, p.cwd
	pi.Threads, pi.Files = len(p.threads), p.files
	m := p.mmPtr.Load()
	pi.SigPnd = p.pending.set
	if p.ctty {
		pi.TTY = 5<<8 | 1
	}
	p.mu.Unlock()
	if p.kernel {
		pi.Threads = 1
	}
	if p.sig != nil {
		p.sig.mu.Lock()
		for i := 1; i <= nSig; i++ {
			switch p.sig.act[i].handler {
			case sigDFL:
			case sigIGN:
				pi.SigIgn |= sigbit(i)
			default:
				pi.SigCgt |= sigbit(i)
			}
		}
		p.sig.mu.Unlock()
	}
	if m != nil {
		for _, v := range m.VMAs() {
			pi.Maps = append(pi.Maps, mapping(v))
			pi.VSize += uint64(v.End - v.Start)
		}
		pi.RSS = uint64(max(m.RSS, 0))
	}
	return pi
}

func mapping(v mm.UVMA) procfs.Mapping {
	perms := []byte("---p")
	if v.Prot&mm.ProtRead != 0 {
		perms[0] = 'r'
	}
	if v.Prot&mm.ProtWrite != 0 {
		perms[1] = 'w'
	}
	if v.Prot&mm.ProtExec != 0 {
		perms[2] = 'x'
	}
	if v.Flags&mm.VMShared != 0 {
		perms[3] = 's'
	}
	return procfs.Mapping{Start: uint64(v.Start), End: uint64(v.End), Perms: string(perms),
		Offset: uint64(v.FileOff), Ino: v.Ino, Path: v.Name}
}
