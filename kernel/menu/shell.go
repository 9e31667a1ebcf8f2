// Package menu is the MenuOS shell: the banner, the `MenuOS>>` prompt and a
// table of commands that the rest of the kernel (networking, filesystems)
// extends with Register. It is portable Go: the console, the power-off
// hook and the clock are injected, so host tests drive it through a real
// line discipline with exact transcripts.
package menu

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"gomenuos/drivers/tty"
	"gomenuos/sched"
)

// Name and Version identify the system in `version`.
const (
	Name    = "gomenuos"
	Version = "0.1"
)

// Prompt is printed before every command line, without a newline.
const Prompt = "MenuOS>>"

// Console is the terminal the shell runs on; *tty.TTY implements it.
type Console interface {
	io.Writer                               // foreground output
	ReadLine(t *sched.Task) (string, error) // one edited line
	Background() io.Writer                  // output of background jobs
	SetForeground(interrupt func())         // Ctrl-C target; nil at the prompt
}

// Shell is one MenuOS session.
//
// Lock contract: mu guards cmds and jobs (the command table and the job
// list). Commands run without it, so a command may call Register or look
// at jobs.
type Shell struct {
	con      Console
	powerOff func()
	clock    func() time.Time

	task *sched.Task // the shell's own; commands share its open files

	mu       sync.Mutex
	cmds     []Command // help first, then in registration order
	jobs     []*job
	lastJob  int
	fallback func(name string) (Command, bool)
	status   int // exit status of the last foreground command ($?)
}

// SetFallback installs the lookup for words that are not commands: the
// kernel finds programs in /bin this way (a shell's PATH search).
func (s *Shell) SetFallback(f func(name string) (Command, bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = f
}

// Status is the exit status of the last foreground command, as $? shows it.
func (s *Shell) Status() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Shell) setStatus(st int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = st
}

// New returns a shell on con with the built-in commands registered:
// powerOff is called by `quit` (in the kernel it does not return), clock
// is read by `time` (the RTC in the kernel).
func New(con Console, powerOff func(), clock func() time.Time) *Shell {
	s := &Shell{con: con, powerOff: powerOff, clock: clock}
	for _, c := range builtins() {
		s.mustRegister(c)
	}
	if c, ok := con.(interface{ SetCompleter(tty.Completer) }); ok {
		c.SetCompleter(s.complete) // Tab
	}
	return s
}

// errQuit ends Run after `quit` returns (it only returns in tests).
var errQuit = errors.New("quit")

// Run prints the banner, then reads and runs command lines until `quit`
// (nil) or until the console fails or task is interrupted (that error).
func (s *Shell) Run(task *sched.Task) error {
	s.task = task
	s.printBanner()
	for {
		fmt.Fprint(s.con, Prompt)
		line, err := s.con.ReadLine(task)
		switch {
		case errors.Is(err, tty.ErrCanceled):
			continue // ^C at the prompt: the tty already started a new line
		case errors.Is(err, tty.ErrLineTooLong):
			fmt.Fprintf(s.con, "line too long (more than %d bytes)\n", tty.MaxLine)
			continue
		case err != nil:
			return err
		}
		if s.dispatch(line) == errQuit {
			return nil
		}
	}
}

func (s *Shell) printBanner() {
	for _, l := range banner {
		fmt.Fprintln(s.con, l)
	}
}
