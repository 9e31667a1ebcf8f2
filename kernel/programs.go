package main

import (
	"errors"
	"fmt"
	"strings"

	"gomenuos/fs"
	"gomenuos/kernel/menu"
	"gomenuos/kernel/proc"
	"gomenuos/sched"
)

// Running user programs from the Go shell: a word that is not a command
// is looked up in the program directories (or taken as a path when it has
// a slash), and running it is a fork+exec as a shell does it: a new
// process group in the foreground, stdio on the console, wait, $?.

// programDirs is the shell's PATH.
var programDirs = []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin"}

// programEnv is the environment programs start with.
var programEnv = []string{"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/", "TERM=vt100", "USER=root", "SHELL=/bin/sh", "PWD=/"}

// findProgram returns the path of an executable regular file for name.
func findProgram(name string) (string, bool) {
	var candidates []string
	if strings.Contains(name, "/") {
		candidates = []string{name}
	} else {
		for _, d := range programDirs {
			candidates = append(candidates, d+"/"+name)
		}
	}
	for _, p := range candidates {
		inode, err := fs.Root().Lookup(nil, p)
		if err == nil && inode.Mode.IsRegular() && inode.Mode&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// programCommand is the shell's fallback: a command that runs the program.
func programCommand(name string) (menu.Command, bool) {
	path, ok := findProgram(name)
	if !ok {
		return menu.Command{}, false
	}
	return menu.Command{Name: name, Run: func(c *menu.Ctx, args []string) error {
		return runProgram(c, path, append([]string{name}, args...))
	}}, true
}

// runProgram spawns the program with the command's console descriptors
// and waits for it. Ctrl-C (foreground) sends SIGINT to its process group,
// `kill N` (background job) SIGTERM; the shell's wait goes on until the
// process is gone, and its status becomes $?.
func runProgram(c *menu.Ctx, path string, argv []string) error {
	var stdio [3]*fs.File
	files := fs.FilesOf(c.Task)
	for i := range stdio {
		if f, err := files.Get(i); err == nil {
			stdio[i] = f
			defer f.Put()
		}
	}
	argv, opened, err := redirect(c.Task, argv, &stdio)
	for _, f := range opened {
		defer f.Put()
	}
	if err != nil {
		c.SetStatus(1)
		return err
	}
	p, err := proc.Spawn(c.Task, path, proc.SpawnAttr{Argv: argv, Env: programEnv, Stdio: stdio, NewGroup: true})
	if err != nil {
		c.SetStatus(126)
		return fmt.Errorf("%s: %w", path, errText(err))
	}
	if c.Job == 0 {
		proc.Console.SetForeground(p.PID)
		defer proc.Console.SetForeground(0)
	}
	for {
		st, err := p.Wait(c.Task)
		if errors.Is(err, sched.ErrRestartSys) {
			sig := proc.SIGINT
			if c.Job != 0 {
				sig = proc.SIGTERM
			}
			proc.KillGroup(p.PID, sig)
			c.Task.ClearInterrupt()
			continue
		}
		if err != nil {
			return err
		}
		if c.Job == 0 {
			proc.Console.ResetTermios()
		}
		c.SetStatus(reportStatus(c, st))
		return nil
	}
}

// reportStatus prints how a process died of a signal, as bash does for a
// foreground job, and returns the shell status (128+signal).
func reportStatus(c *menu.Ctx, st int) int {
	if sig := st & 0x7f; sig != 0 {
		if msg, ok := signalMessages[sig]; ok {
			if st&0x80 != 0 {
				msg += " (core dumped)"
			}
			c.Printf("%s\n", msg)
		}
		return 128 + sig
	}
	return st >> 8 & 0xff
}

// signalMessages are bash's words for a job killed by a signal; SIGINT
// and SIGPIPE print nothing.
var signalMessages = map[int]string{
	1: "Hangup", 3: "Quit", 4: "Illegal instruction", 5: "Trace/breakpoint trap", 6: "Aborted",
	7: "Bus error", 8: "Floating point exception", 9: "Killed", 10: "User defined signal 1",
	11: "Segmentation fault", 12: "User defined signal 2", 14: "Alarm clock", 15: "Terminated",
	31: "Bad system call",
}

// errText turns an exec error into a shell's message.
func errText(err error) error {
	return err
}

// redirect applies the shell's redirections in argv ("< FILE", "> FILE",
// ">> FILE", "2> FILE", also written without the space) to stdio and
// returns the other words and the files it opened (the caller puts them).
func redirect(task *sched.Task, argv []string, stdio *[3]*fs.File) (words []string, opened []*fs.File, err error) {
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		op, target := "", ""
		for _, o := range []string{"2>", ">>", ">", "<"} {
			if strings.HasPrefix(a, o) {
				op, target = o, a[len(o):]
				break
			}
		}
		if op == "" {
			words = append(words, a)
			continue
		}
		if target == "" {
			if i+1 == len(argv) {
				return nil, opened, fmt.Errorf("%s: missing file name", op)
			}
			i++
			target = argv[i]
		}
		fd, flags := 1, fs.O_WRONLY|fs.O_CREAT|fs.O_TRUNC
		switch op {
		case "<":
			fd, flags = 0, fs.O_RDONLY
		case ">>":
			flags = fs.O_WRONLY | fs.O_CREAT | fs.O_APPEND
		case "2>":
			fd = 2
		}
		f, err := fs.Root().Open(task, target, flags, 0o644)
		if err != nil {
			return nil, opened, fmt.Errorf("%s: %w", target, err)
		}
		opened = append(opened, f)
		stdio[fd] = f
	}
	return words, opened, nil
}
