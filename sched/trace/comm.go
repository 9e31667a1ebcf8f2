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
}

var comms struct {
	mu   sync.Mutex
	next int
	tab  [CommSlots]naming
}

// SetComm names the calling goroutine from now on.
func SetComm(name string) {
	id, _ := goInfo(CurG())
	if len(name) > 15 {
		name = name[:15]
	}
	comms.mu.Lock()
	defer comms.mu.Unlock()
	comms.tab[comms.next] = naming{id, x86.Rdtsc(), name}
	comms.next = (comms.next + 1) % CommSlots
}

// Comm returns the name goroutine id had at time tsc, if it had one.
func Comm(id, tsc uint64) (string, bool) {
	comms.mu.Lock()
	defer comms.mu.Unlock()
	var best *naming
	for i := range comms.tab {
		c := &comms.tab[i]
		if c.goid == id && id != 0 && c.tsc <= tsc && (best == nil || c.tsc > best.tsc) {
			best = c
		}
	}
	if best == nil {
		return "", false
	}
	return best.name, true
}

// CurGoID is the calling goroutine's id.
func CurGoID() uint64 {
	id, _ := goInfo(CurG())
	return id
}
