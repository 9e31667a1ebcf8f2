package char

import (
	"sync"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Console device: major 5 minor 1, "/dev/console" in /proc/devices.
const (
	ConsoleMajor = 5
	ConsoleMinor = 1
)

// Terminal is what the console device reads and writes: the kernel plugs
// in the UART's tty (*tty.TTY has both methods) with SetConsole.
type Terminal interface {
	Write(p []byte) (int, error)
	// ReadLine returns one edited line without its newline; an interrupt
	// of t ends it with sched.ErrRestartSys.
	ReadLine(t *sched.Task) (string, error)
}

// console is the plugged-in terminal and the unread rest of the last line.
// Lock contract: mu guards term; readMu serializes readers and guards
// pending, and is held across ReadLine so lines are not split between
// readers.
var console struct {
	mu      sync.Mutex
	term    Terminal
	readMu  sync.Mutex
	pending []byte
	raw     bool // non-canonical mode (termios ICANON off)
	noEcho  bool // ECHO off
}

// RawTerminal is a terminal that can also hand out unedited input and
// say how much is waiting (*tty.TTY).
type RawTerminal interface {
	ReadRaw(t *sched.Task, p []byte, echo bool) (int, error)
	Pending() int
	ReadQueue() *sched.WaitQueue
}

// SetConsoleMode switches /dev/console between canonical (edited lines)
// and non-canonical input, with or without echo (termios ICANON, ECHO).
func SetConsoleMode(canonical, echo bool) {
	console.mu.Lock()
	defer console.mu.Unlock()
	console.raw, console.noEcho = !canonical, !echo
}

func consoleMode() (raw, echo bool) {
	console.mu.Lock()
	defer console.mu.Unlock()
	return console.raw, !console.noEcho
}

// SetConsole plugs in the terminal /dev/console reads and writes; nil
// unplugs it, after which opens fail with ENODEV.
func SetConsole(term Terminal) {
	console.mu.Lock()
	defer console.mu.Unlock()
	console.term = term
}

func consoleTerm() Terminal {
	console.mu.Lock()
	defer console.mu.Unlock()
	return console.term
}

// consoleFops read whole lines from the terminal and write to it
// (Linux: tty_fops on the console's tty).
type consoleFops struct{ fs.NoFileOps }

func (consoleFops) Open(*fs.Inode, *fs.File) error {
	if consoleTerm() == nil {
		return fs.ENODEV
	}
	return nil
}

// Read returns the rest of the current line, newline included, reading a
// new line from the terminal when none is left (canonical mode).
func (consoleFops) Read(t *sched.Task, _ *fs.File, p []byte, _ *int64) (int, error) {
	term := consoleTerm()
	if term == nil {
		return 0, fs.EIO
	}
	console.readMu.Lock()
	defer console.readMu.Unlock()
	if raw, echo := consoleMode(); raw && len(console.pending) == 0 {
		if rt, ok := term.(RawTerminal); ok {
			return rt.ReadRaw(t, p, echo)
		}
	}
	if len(console.pending) == 0 {
		line, err := term.ReadLine(t)
		if err != nil {
			return 0, err
		}
		console.pending = append([]byte(line), '\n')
	}
	n := copy(p, console.pending)
	console.pending = console.pending[n:]
	return n, nil
}

func (consoleFops) Write(_ *sched.Task, _ *fs.File, p []byte, _ *int64) (int, error) {
	term := consoleTerm()
	if term == nil {
		return 0, fs.EIO
	}
	return term.Write(p)
}

// Poll: readable when a line or typed bytes wait (Linux: n_tty_poll).
func (consoleFops) Poll(*fs.File) fs.PollMask {
	m := fs.PollOut
	console.readMu.Lock()
	pending := len(console.pending)
	console.readMu.Unlock()
	if rt, ok := consoleTerm().(RawTerminal); ok && (pending > 0 || rt.Pending() > 0) {
		m |= fs.PollIn
	}
	return m
}

// PollQueues: pollers wait where readers do.
func (consoleFops) PollQueues(*fs.File) []*sched.WaitQueue {
	if rt, ok := consoleTerm().(RawTerminal); ok {
		return []*sched.WaitQueue{rt.ReadQueue()}
	}
	return nil
}
