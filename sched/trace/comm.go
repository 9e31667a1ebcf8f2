package trace

import (
	"sync"

	"gomenuos/arch/x86"
)

// Task names for goroutines (Linux: task_struct.comm, 16 bytes). The shell
// names the goroutine that runs a command after the command, so a trace
// shows `hello(42)` where Linux shows `ftp(7223)`. The shell's own
// goroutine runs every foreground command, so a name holds from the time
// it was given: events are printed with the name their goroutine had
// when they happened. Goroutine context only. Goroutine ids are never
// reused; the table keeps the CommSlots most recent namings.

// CommSlots bounds the table.
const CommSlots = 256

type naming struct {
	goid, tsc uint64
	name      string
	id        uint64 // the id to show (a process's TID); 0: the goroutine id
}

var comms struct {
	mu   sync.Mutex
	next int
	tab  [CommSlots]naming
}

// SetComm names the calling goroutine from now on; traces show it with
// its goroutine id.
func SetComm(name string) { SetTask(name, 0) }

// SetTask names the calling goroutine from now on and gives the id traces
// show for it (a user process's thread id; 0 keeps the goroutine id).
func SetTask(name string, id uint64) {
	g, _ := goInfo(CurG())
	if len(name) > 15 {
		name = name[:15]
	}
	comms.mu.Lock()
	defer comms.mu.Unlock()
	comms.tab[comms.next] = naming{g, x86.Rdtsc(), name, id}
	comms.next = (comms.next + 1) % CommSlots
}

// Comm returns the name goroutine g had at time tsc and the id to show
// with it, if it had a name.
func Comm(g, tsc uint64) (name string, id uint64, ok bool) {
	comms.mu.Lock()
	defer comms.mu.Unlock()
	var best *naming
	for i := range comms.tab {
		c := &comms.tab[i]
		if c.goid == g && g != 0 && c.tsc <= tsc && (best == nil || c.tsc > best.tsc) {
			best = c
		}
	}
	if best == nil {
		return "", 0, false
	}
	if best.id != 0 {
		return best.name, best.id, true
	}
	return best.name, g, true
}

// CurGoID is the calling goroutine's id.
func CurGoID() uint64 {
	id, _ := goInfo(CurG())
	return id
}
