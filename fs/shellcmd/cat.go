package shellcmd

import (
	"io"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Cat copies each file to out, in order, and stops at the first error.
// A device read that blocks (cat /dev/globalvar) ends when t is interrupted,
// with sched.ErrRestartSys.
func Cat(t *sched.Task, out io.Writer, args []string) error {
	if len(args) == 0 {
		return usage("cat FILE...")
	}
	ns, err := root()
	if err != nil {
		return err
	}
	for _, path := range args {
		if err := catFile(t, ns, out, path); err != nil {
			return err
		}
	}
	return nil
}

func catFile(t *sched.Task, ns *fs.Namespace, out io.Writer, path string) error {
	f, err := ns.Open(t, path, fs.O_RDONLY, 0)
	if err != nil {
		return pathError(path, err)
	}
	defer f.Put()
	buf := make([]byte, 4096)
	for {
		// Endless devices (/dev/zero) never block, so look for Ctrl-C here too.
		if t != nil && t.Interrupted() {
			return sched.ErrRestartSys
		}
		n, err := f.Read(t, buf)
		if err == sched.ErrRestartSys {
			return err
		}
		if err != nil {
			return pathError(path, err)
		}
		if n == 0 {
			return nil
		}
		if _, err := out.Write(buf[:n]); err != nil {
			return err
		}
	}
}
