package shellcmd

import (
	"fmt"
	"io"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Fds lists the open descriptors of every task that has any, as
// "TASK NAME: FD -> NAME" lines, the name being what /proc/<id>/fd shows
// (the opened path, or socket:[ino] for a socket):
//
//	4 replyhi: 3 -> socket:[12]
//
// Tasks sharing a table (fs.ShareFiles) are listed once, under the first.
func Fds(_ *sched.Task, out io.Writer, _ []string) error {
	seen := map[*fs.FDTable]bool{}
	for _, tf := range fs.AllTaskFiles() {
		if seen[tf.Files] {
			continue
		}
		seen[tf.Files] = true
		id, name := uint64(0), "kernel"
		if tf.Task != nil {
			id, name = tf.Task.ID(), tf.Task.Name()
		}
		for _, fd := range tf.Files.List() {
			fmt.Fprintf(out, "%d %s: %d -> %s\n", id, name, fd.Num, fd.File.Path)
		}
	}
	return nil
}
