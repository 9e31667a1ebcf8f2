package menu

import (
	"errors"
	"fmt"
	"gomenuos/fs"
	"strconv"
	"strings"

	"github.com/u-root/u-root/pkg/shlex"

	"gomenuos/sched"
	"gomenuos/sched/trace"
)

// WrongCmd is MenuOS's answer to an unknown command.
const WrongCmd = "This is a wrong cmd!"

// dispatch runs one command line: empty lines do nothing, `CMD &` starts a
// background job, anything else runs in the foreground. It is the function
// to break on in gdb (`break 'gomenuos/kernel/menu.(*Shell).dispatch'`),
// so it is kept out of line.
//
//go:noinline
func (s *Shell) dispatch(line string) error {
	line, background := splitBackground(line)
	args := shlex.Argv(line)
	if len(args) == 0 {
		return nil
	}
	for i, a := range args {
		if a == "$?" {
			args[i] = strconv.Itoa(s.Status())
		}
	}
	cmd, ok := s.lookup(args[0])
	if !ok {
		s.mu.Lock()
		fb := s.fallback
		s.mu.Unlock()
		if fb != nil {
			cmd, ok = fb(args[0])
		}
	}
	if !ok {
		fmt.Fprintln(s.con, WrongCmd)
		s.setStatus(127)
		return nil
	}
	if background {
		s.startJob(cmd, args)
		return nil
	}
	return s.runForeground(cmd, args)
}

// splitBackground strips a trailing `&`, which asks for a background job.
func splitBackground(line string) (string, bool) {
	trimmed := strings.TrimRight(line, " \t")
	if rest, ok := strings.CutSuffix(trimmed, "&"); ok {
		return rest, true
	}
	return line, false
}

// newTask makes a command's task. Like a process forked by the shell with
// CLONE_FILES, it shares the shell's open files, so /proc/self/fd and a
// later command see the sockets and files a command left open.
func (s *Shell) newTask(name string) *sched.Task {
	t := sched.NewTask(name)
	if s.task != nil {
		fs.ShareFiles(t, s.task)
	}
	return t
}

// runForeground runs cmd with a fresh task that Ctrl-C interrupts.
func (s *Shell) runForeground(cmd Command, args []string) error {
	task := s.newTask(cmd.Name)
	trace.SetComm(cmd.Name) // the task name traces show for the shell's goroutine now (Linux: comm after exec)
	s.con.SetForeground(task.Interrupt)
	c := &Ctx{Out: s.con, Task: task, Shell: s, status: -1}
	err := runCommand(cmd, c, args)
	s.con.SetForeground(nil)
	fs.ExitFiles(task)
	status := 0
	switch {
	case err == errQuit:
		return errQuit
	case task.Interrupted() || errors.Is(err, sched.ErrRestartSys):
		fmt.Fprintf(s.con, "%s: interrupted\n", cmd.Name)
		status = 130
	case err != nil:
		fmt.Fprintf(s.con, "%s: %v\n", cmd.Name, err)
		status = 1
	}
	if c.status >= 0 {
		status = c.status
	}
	s.setStatus(status)
	return nil
}

// runCommand calls cmd.Run, turning a panic into an error so one broken
// command cannot take the shell down.
func runCommand(cmd Command, c *Ctx, args []string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return cmd.Run(c, args[1:])
}
