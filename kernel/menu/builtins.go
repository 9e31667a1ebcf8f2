package menu

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"gomenuos/sched"
)

// builtins is the shell's own part of the command table, help first.
func builtins() []Command {
	return []Command{
		{Name: "help", Desc: "Menu List:", Run: helpCmd},
		{Name: "version", Desc: "Show the gomenuos and Go versions", Run: versionCmd},
		{Name: "quit", Desc: "Quit from MenuOS (power off)", Run: quitCmd},
		{Name: "time", Desc: "Show the time: year:month(0-11):day:hour:min:sec", Run: timeCmd},
		{Name: "jobs", Desc: "List background jobs (start one with CMD &)", Run: jobsCmd},
		{Name: "kill", Desc: "Interrupt background job N", Run: killCmd},
		{Name: "sleep", Desc: "Sleep N seconds (Ctrl-C interrupts)", Run: sleepCmd},
	}
}

func helpCmd(c *Ctx, _ []string) error {
	for _, cmd := range c.Shell.Commands() {
		c.Printf("%s - %s\n", cmd.Name, cmd.Desc)
	}
	return nil
}

// VersionLine is what `version` prints.
func VersionLine() string {
	return fmt.Sprintf("%s %s (Go %s, MenuOS-compatible shell)", Name, Version, runtime.Version())
}

func versionCmd(c *Ctx, _ []string) error {
	c.Printf("%s\n", VersionLine())
	return nil
}

// quitCmd powers the machine off; in the kernel the hook never returns.
func quitCmd(c *Ctx, _ []string) error {
	c.Shell.powerOff()
	return errQuit
}

// timeCmd prints the clock as MenuOS does: tm_year+1900, tm_mon (0-based),
// tm_mday, tm_hour, tm_min, tm_sec.
func timeCmd(c *Ctx, _ []string) error {
	t := c.Shell.clock()
	c.Printf("time:%d:%d:%d:%d:%d:%d\n", t.Year(), int(t.Month())-1, t.Day(),
		t.Hour(), t.Minute(), t.Second())
	return nil
}

// sleepCmd waits N seconds (a Go duration such as 150ms also works) in an
// interruptible wait, so Ctrl-C and kill end it early.
func sleepCmd(c *Ctx, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: sleep SECONDS")
	}
	d, err := parseSeconds(args[0])
	if err != nil {
		return err
	}
	var never sched.WaitQueue
	_, err = never.WaitEventInterruptibleTimeout(c.Task, func() bool { return false }, d)
	if errors.Is(err, sched.ErrTimedOut) {
		return nil
	}
	return err
}

func parseSeconds(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
}
