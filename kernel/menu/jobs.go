package menu

import (
	"errors"
	"fmt"
	"gomenuos/fs"
	"strconv"
	"strings"

	"gomenuos/sched"
	"gomenuos/sched/trace"
)

// job is a command running in the background (MenuOS forks these).
type job struct {
	id   int
	line string      // what `jobs` shows
	task *sched.Task // kill interrupts it
}

// startJob runs `CMD &`: it announces `[n] started` and runs cmd in its own
// goroutine and task; Ctrl-C does not reach it, `kill n` does.
func (s *Shell) startJob(cmd Command, args []string) {
	j := s.addJob(strings.Join(args, " "), cmd.Name)
	fmt.Fprintf(s.con, "[%d] started\n", j.id)
	go s.runJob(j, func(c *Ctx) error { return runCommand(cmd, c, args) }, true)
}

// Spawn starts fn as a background job named name, for commands that put a
// server in the background and return (replyhi). It prints nothing at
// start; the job is listed by `jobs`, stopped by `kill`, and its end is
// reported. It returns the job number.
func (c *Ctx) Spawn(name string, fn func(c *Ctx) error) int {
	s := c.Shell
	j := s.addJob(name, name)
	go s.runJob(j, func(c *Ctx) error {
		return runCommand(Command{Name: name, Run: func(c *Ctx, _ []string) error { return fn(c) }},
			c, []string{name})
	}, false)
	return j.id
}

func (s *Shell) addJob(line, name string) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastJob++
	j := &job{id: s.lastJob, line: line, task: s.newTask(name)}
	s.jobs = append(s.jobs, j)
	return j
}

// runJob runs one job to its end and reports how it ended on a fresh line.
func (s *Shell) runJob(j *job, run func(c *Ctx) error, reportDone bool) {
	trace.SetComm(j.task.Name()) // the task name traces show for the job's goroutine
	out := s.con.Background()
	err := run(&Ctx{Out: out, Task: j.task, Shell: s, Job: j.id})
	fs.ExitFiles(j.task)
	s.removeJob(j)
	switch {
	case j.task.Interrupted() || errors.Is(err, sched.ErrRestartSys):
		fmt.Fprintf(out, "[%d] interrupted  %s\n", j.id, j.line)
	case err != nil:
		fmt.Fprintf(out, "[%d] exit: %v  %s\n", j.id, err, j.line)
	case reportDone:
		fmt.Fprintf(out, "[%d] done  %s\n", j.id, j.line)
	}
}

func (s *Shell) removeJob(j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.jobs {
		if x == j {
			s.jobs = append(s.jobs[:i], s.jobs[i+1:]...)
			return
		}
	}
}

// findJob parses `n` or `%n` and returns that running job.
func (s *Shell) findJob(arg string) (*job, error) {
	id, err := strconv.Atoi(strings.TrimPrefix(arg, "%"))
	if err != nil {
		return nil, fmt.Errorf("bad job number %q", arg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.id == id {
			return j, nil
		}
	}
	return nil, fmt.Errorf("no such job %d", id)
}

func jobsCmd(c *Ctx, _ []string) error {
	s := c.Shell
	s.mu.Lock()
	jobs := append([]*job(nil), s.jobs...)
	s.mu.Unlock()
	for _, j := range jobs {
		c.Printf("[%d] running  %s\n", j.id, j.line)
	}
	return nil
}

func killCmd(c *Ctx, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: kill N")
	}
	j, err := c.Shell.findJob(args[0])
	if err != nil {
		return err
	}
	j.task.Interrupt()
	return nil
}
