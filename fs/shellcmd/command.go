// Package shellcmd holds the MenuOS shell's file and device commands: ls,
// cat, echo with redirection, mknod, mkdir, rmdir, rm, fds and ps, and the
// wait-queue latency figure wakelat. They
// work on the namespace set with fs.SetRoot. The shell registers them by
// wrapping each Run:
//
//	for _, c := range shellcmd.Commands() {
//		sh.Register(menu.Command{Name: c.Name, Desc: c.Desc,
//			Run: func(x *menu.Ctx, a []string) error { return c.Run(x.Task, x.Out, a) }})
//	}
//
// A command's error is printed by the shell as "NAME: error", so errors
// read like coreutils': "cat: /nope: No such file or directory".
package shellcmd

import (
	"errors"
	"fmt"
	"io"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Command is one shell command. Run gets the words after the command name
// and should return soon after t is interrupted.
type Command struct {
	Name string
	Desc string
	Run  func(t *sched.Task, out io.Writer, args []string) error
}

// Commands returns the file commands in the order help should list them.
func Commands() []Command {
	return []Command{
		{"ls", "list files: ls [-l] [PATH...]", Ls},
		{"cat", "print files: cat FILE...", Cat},
		{"echo", "print words: echo [-n] WORDS [> FILE | >> FILE]", Echo},
		{"mknod", "make a device node: mknod PATH c MAJOR MINOR", Mknod},
		{"mkdir", "make directories: mkdir DIR...", Mkdir},
		{"rmdir", "remove empty directories: rmdir DIR...", Rmdir},
		{"rm", "remove files: rm FILE...", Rm},
		{"fds", "list open file descriptors of all tasks", Fds},
		{"ps", "list tasks (/proc/PID): ps [-L] (-L: kernel threads)", Ps},
		{"wakelat", "wait-queue wake-up latency: wakelat [ROUNDS]", Wakelat},
	}
}

// errNoRoot: the kernel has not mounted a root file system yet.
var errNoRoot = errors.New("no root file system")

func root() (*fs.Namespace, error) {
	ns := fs.Root()
	if ns == nil {
		return nil, errNoRoot
	}
	return ns, nil
}

// pathError names the file an error is about, as coreutils do.
func pathError(path string, err error) error {
	return fmt.Errorf("%s: %w", path, err)
}

// usage is a command's complaint about its arguments.
type usage string

func (u usage) Error() string { return "usage: " + string(u) }
