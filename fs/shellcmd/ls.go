package shellcmd

import (
	"fmt"
	"io"

	"gomenuos/fs"
	"gomenuos/sched"
)

// Ls lists directories (their entries, sorted) and files (themselves), one
// name per line; -l adds mode, links, owner, size or device numbers and the
// modification time, and "-> target" for symbolic links:
//
//	crw-rw-rw-  1 root root   1,   3 Nov 22 03:00 null
//	lrwx------  1 root root       64 Nov 22 03:00 3 -> socket:[7]
//
// With several paths each listing is headed by "PATH:".
func Ls(t *sched.Task, out io.Writer, args []string) error {
	long := false
	var paths []string
	for _, a := range args {
		if a == "-l" {
			long = true
			continue
		}
		paths = append(paths, a)
	}
	if len(paths) == 0 {
		paths = []string{"/"}
	}
	ns, err := root()
	if err != nil {
		return err
	}
	for i, p := range paths {
		if len(paths) > 1 {
			if i > 0 {
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "%s:\n", p)
		}
		if err := lsPath(t, ns, out, p, long); err != nil {
			return err
		}
	}
	return nil
}

func lsPath(t *sched.Task, ns *fs.Namespace, out io.Writer, path string, long bool) error {
	inode, err := ns.LookupNoFollow(t, path)
	if err != nil {
		return pathError(path, err)
	}
	ents := []fs.Dirent{{Name: path, Inode: inode}}
	if inode.Mode.Type() == fs.ModeLink && !long {
		inode, err = ns.Lookup(t, path) // "ls /proc/self" lists the target
		if err != nil {
			return pathError(path, err)
		}
	}
	if inode.Mode.IsDir() {
		if ents, err = ns.ReadDir(t, path); err != nil {
			return pathError(path, err)
		}
	}
	for _, e := range ents {
		if !long {
			fmt.Fprintln(out, e.Name)
			continue
		}
		fmt.Fprintln(out, longLine(t, e))
	}
	return nil
}

// longLine is one line of ls -l (coreutils' layout, fixed widths).
func longLine(t *sched.Task, e fs.Dirent) string {
	st := e.Inode.Stat()
	size := fmt.Sprint(st.Size)
	if st.Mode.Type() == fs.ModeChr {
		size = fmt.Sprintf("%3d, %3d", st.Rdev.Major(), st.Rdev.Minor())
	}
	line := fmt.Sprintf("%s %2d root root %8s %s %s", st.Mode, st.Nlink, size, st.Mtime.Format("Jan _2 15:04"), e.Name)
	if st.Mode.Type() == fs.ModeLink {
		if target, err := fs.Readlink(t, e.Inode); err == nil {
			line += " -> " + target
		}
	}
	return line
}
