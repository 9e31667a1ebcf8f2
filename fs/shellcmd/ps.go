package shellcmd

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Ps lists the tasks: one line per /proc/<id> directory, with the name in
// /proc/<id>/comm, so it shows exactly what `ls /proc` does (0 is the
// kernel's own descriptor table; ps itself is a task too):
//
//	PID CMD
//	  0 kernel
//	  1 shell
//	  6 replyhi
//	  9 ps
//
// ps -L lists the kernel threads instead (/proc/threads: the threads the
// Go runtime runs its goroutines on). Linux: ps, and ps -L for threads.
func Ps(t *sched.Task, out io.Writer, args []string) error {
	ns, err := root()
	if err != nil {
		return err
	}
	switch {
	case len(args) == 1 && args[0] == "-L":
		return catFile(t, ns, out, "/proc/threads")
	case len(args) > 0:
		return usage("ps [-L]")
	}
	ents, err := ns.ReadDir(t, "/proc")
	if err != nil {
		return pathError("/proc", err)
	}
	var ids []uint64
	for _, e := range ents {
		if id, err := strconv.ParseUint(e.Name, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	fmt.Fprintf(out, "%5s %s\n", "PID", "CMD")
	for _, id := range ids {
		var comm strings.Builder
		if err := catFile(t, ns, &comm, fmt.Sprintf("/proc/%d/comm", id)); err != nil {
			if errors.Is(err, fs.ENOENT) {
				continue // ended since the listing
			}
			return err
		}
		fmt.Fprintf(out, "%5d %s", id, comm.String())
	}
	return nil
}
