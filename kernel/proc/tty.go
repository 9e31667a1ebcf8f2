package proc

import (
	"encoding/binary"
	"sync"
	"syscall"

	"gomenuos/fs"
)

// The console as a controlling terminal (Linux: drivers/tty/tty_io.c's
// ioctls and job control, tty_jobctrl.c). There is one terminal, the
// serial console; its line discipline lives in drivers/tty. Here are the
// termios settings programs read and write, and the foreground process
// group that Ctrl-C signals.

// Terminal ioctls.
const (
	tcgets     = 0x5401
	tcsets     = 0x5402
	tcsetsw    = 0x5403
	tcsetsf    = 0x5404
	tiocsctty  = 0x540E
	tiocgpgrp  = 0x540F
	tiocspgrp  = 0x5410
	tiocgwinsz = 0x5413
	tiocswinsz = 0x5414
	fionread   = 0x541B
	tiocnotty  = 0x5422
	fionbio    = 0x5421
	fioclex    = 0x5451
	fionclex   = 0x5450
)

// Console devices: /dev/console (5,1) and /dev/tty (5,0).
const ttyMajor = 5

// TermiosSize is the kernel's struct termios for TCGETS: four flag words,
// the line discipline and 19 control characters.
const TermiosSize = 36

// Console is the terminal state shared by the kernel's shell and the
// processes that use the console.
var Console = &terminal{termios: defaultTermios(), rows: 24, cols: 80}

type terminal struct {
	mu         sync.Mutex
	termios    [TermiosSize]byte
	fg         int // foreground process group; 0: the kernel's shell
	rows, cols uint16
	// OnTermios tells the line discipline about new settings (canonical
	// or raw, echo or not); set by the kernel at boot.
	OnTermios func(canonical, echo bool)
}

// Linux's tty_std_termios: ICRNL|IXON, OPOST|ONLCR, B38400|CS8|CREAD|HUPCL,
// ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN, and INIT_C_CC.
func defaultTermios() [TermiosSize]byte {
	var b [TermiosSize]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], 0x500)
	le.PutUint32(b[4:], 0x5)
	le.PutUint32(b[8:], 0x4bf)
	le.PutUint32(b[12:], 0x8a3b)
	copy(b[17:], "\x03\x1c\x7f\x15\x04\x00\x01\x00\x11\x13\x1a\x00\x12\x0f\x17\x16\x00")
	return b
}

const (
	lflagICANON = 0x2
	lflagECHO   = 0x8
)

// Foreground returns the foreground process group (0: the kernel shell).
func (c *terminal) Foreground() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fg
}

// SetForeground makes pgid the foreground group (the shell does this for
// a job it runs, Linux: tcsetpgrp).
func (c *terminal) SetForeground(pgid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fg = pgid
}

// Interrupt is Ctrl-C: SIGINT to the foreground group (Linux: isig →
// kill_pgrp). It reports whether a group got it.
func (c *terminal) Interrupt() bool {
	fg := c.Foreground()
	if fg <= 1 {
		return false
	}
	return KillGroup(fg, sigINT) == nil
}

// ResetTermios restores the default settings (when the kernel shell takes
// the console back from a program that left it raw).
func (c *terminal) ResetTermios() {
	c.mu.Lock()
	c.termios = defaultTermios()
	cb := c.OnTermios
	c.mu.Unlock()
	if cb != nil {
		cb(true, true)
	}
}

func isTerminal(f *fs.File) bool {
	return f.Inode.Mode.Type() == fs.ModeChr && f.Inode.Rdev.Major() == ttyMajor
}

func sysIoctl(t *Thread, a args) (uintptr, error) {
	f, err := t.file(int(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.Put()
	cmd, arg := uint32(a[1]), a[2]
	switch cmd {
	case fioclex, fionclex:
		return 0, t.files().SetCloexec(int(a[0]), cmd == fioclex)
	case fionbio:
		var b [4]byte
		if err := t.Proc.MM().CopyFromUser(b[:], arg); err != nil {
			return 0, err
		}
		fl := f.Flags &^ fs.O_NONBLOCK
		if binary.LittleEndian.Uint32(b[:]) != 0 {
			fl |= fs.O_NONBLOCK
		}
		setStatusFlags(f, fl)
		return 0, nil
	}
	if isTerminal(f) {
		return t.ttyIoctl(cmd, arg)
	}
	if cmd == fionread {
		return 0, putU32(t.Proc.MM(), arg, uint32(readable(f)))
	}
	return f.Ioctl(t.task, cmd, arg)
}

// readable estimates FIONREAD for files that have no ioctl of their own.
func readable(f *fs.File) int {
	if f.Poll()&fs.PollIn != 0 {
		if f.Inode.Mode.IsRegular() {
			return int(max(f.Inode.Stat().Size-f.Pos(), 0))
		}
		return 1
	}
	return 0
}

func (t *Thread) ttyIoctl(cmd uint32, arg uintptr) (uintptr, error) {
	m := t.Proc.MM()
	c := Console
	switch cmd {
	case tcgets:
		c.mu.Lock()
		b := c.termios
		c.mu.Unlock()
		return 0, m.CopyToUser(arg, b[:])
	case tcsets, tcsetsw, tcsetsf:
		var b [TermiosSize]byte
		if err := m.CopyFromUser(b[:], arg); err != nil {
			return 0, err
		}
		c.mu.Lock()
		c.termios = b
		cb := c.OnTermios
		c.mu.Unlock()
		lflag := binary.LittleEndian.Uint32(b[12:])
		if cb != nil {
			cb(lflag&lflagICANON != 0, lflag&lflagECHO != 0)
		}
		return 0, nil
	case tiocgwinsz:
		var b [8]byte
		c.mu.Lock()
		binary.LittleEndian.PutUint16(b[0:], c.rows)
		binary.LittleEndian.PutUint16(b[2:], c.cols)
		c.mu.Unlock()
		return 0, m.CopyToUser(arg, b[:])
	case tiocswinsz:
		var b [8]byte
		if err := m.CopyFromUser(b[:], arg); err != nil {
			return 0, err
		}
		c.mu.Lock()
		c.rows, c.cols = binary.LittleEndian.Uint16(b[0:]), binary.LittleEndian.Uint16(b[2:])
		c.mu.Unlock()
		return 0, nil
	case tiocgpgrp:
		fg := c.Foreground()
		if fg == 0 {
			fg = 1
		}
		return 0, putU32(m, arg, uint32(fg))
	case tiocspgrp:
		var b [4]byte
		if err := m.CopyFromUser(b[:], arg); err != nil {
			return 0, err
		}
		pgid := int(int32(binary.LittleEndian.Uint32(b[:])))
		if pgid <= 0 || len(groupMembers(pgid)) == 0 {
			return 0, syscall.EPERM
		}
		c.SetForeground(pgid)
		return 0, nil
	case tiocsctty, tiocnotty:
		return 0, nil
	case fionread:
		return 0, putU32(m, arg, 0)
	}
	return 0, syscall.ENOTTY
}
