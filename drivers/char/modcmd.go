package char

import (
	"fmt"
	"io"

	"gomenuos/fs/shellcmd"
	"gomenuos/sched"
)

// Commands returns the module commands for the shell, registered like
// shellcmd.Commands.
func Commands() []shellcmd.Command {
	return []shellcmd.Command{
		{Name: "insmod", Desc: "load a built-in driver module: insmod MODULE", Run: insmodCmd},
		{Name: "rmmod", Desc: "unload a driver module: rmmod MODULE", Run: rmmodCmd},
		{Name: "lsmod", Desc: "list loaded driver modules", Run: lsmodCmd},
	}
}

func insmodCmd(_ *sched.Task, out io.Writer, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: insmod MODULE")
	}
	return Insmod(args[0], out)
}

func rmmodCmd(_ *sched.Task, _ io.Writer, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: rmmod MODULE")
	}
	return Rmmod(args[0])
}

func lsmodCmd(_ *sched.Task, out io.Writer, _ []string) error {
	for _, m := range Lsmod() {
		fmt.Fprintln(out, m)
	}
	return nil
}
