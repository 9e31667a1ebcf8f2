package shellcmd

import (
	"io"

	"gomenuos/sched"
)

// Ps prints the kernel's thread table, /proc/threads.
func Ps(t *sched.Task, out io.Writer, _ []string) error {
	ns, err := root()
	if err != nil {
		return err
	}
	return catFile(t, ns, out, "/proc/threads")
}
