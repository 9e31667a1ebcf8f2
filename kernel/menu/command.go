package menu

import (
	"fmt"
	"io"

	"gomenuos/sched"
)

// Command is one entry of the shell's command table.
type Command struct {
	Name string // the first word of the line
	Desc string // shown by help as `name - desc`
	// Run executes the command with the words after the name. It should
	// return soon after c.Task is interrupted (Ctrl-C in the foreground,
	// kill for a background job); sched.ErrRestartSys is the usual result.
	Run func(c *Ctx, args []string) error
}

// Ctx is what a running command gets from the shell.
type Ctx struct {
	Out   io.Writer   // the console (a background job's writer starts fresh lines)
	Task  *sched.Task // interrupted by Ctrl-C or kill
	Shell *Shell
	Job   int // background job number, 0 in the foreground

	status int // set by SetStatus; -1: from the error Run returns
}

// SetStatus sets the exit status $? reports for this command (a program's).
func (c *Ctx) SetStatus(st int) { c.status = st }

// Printf prints on the command's output.
func (c *Ctx) Printf(format string, args ...any) {
	fmt.Fprintf(c.Out, format, args...)
}

// Register adds a command to the table; `help` lists commands in
// registration order. A name already taken is an error.
func (s *Shell) Register(c Command) error {
	if c.Name == "" || c.Run == nil {
		return fmt.Errorf("menu: command %q needs a name and a Run function", c.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.cmds {
		if old.Name == c.Name {
			return fmt.Errorf("menu: command %q already registered", c.Name)
		}
	}
	s.cmds = append(s.cmds, c)
	return nil
}

func (s *Shell) mustRegister(c Command) {
	if err := s.Register(c); err != nil {
		panic(err)
	}
}

// Commands returns a copy of the table in help order.
func (s *Shell) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Command(nil), s.cmds...)
}

// lookup finds a command by name.
func (s *Shell) lookup(name string) (Command, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cmds {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}
