package shellcmd

import (
	"fmt"
	"io"
	"strconv"

	"gomenuos/fs"
	"gomenuos/sched"
)

// maxMajor is the largest major a device number holds (12 bits, Linux's
// MAJOR(dev_t)); the registry itself stops at fs.ChrdevMajorMax.
const maxMajor = 1<<12 - 1

// Mknod makes a character device node: mknod PATH c MAJOR MINOR
// (mode 0644, as coreutils' with the usual umask).
func Mknod(t *sched.Task, _ io.Writer, args []string) error {
	const use = usage("mknod PATH c MAJOR MINOR")
	if len(args) != 4 {
		return use
	}
	path, typ := args[0], args[1]
	switch typ {
	case "c", "u":
	case "b":
		return fmt.Errorf("%s: block devices are not supported", path)
	default:
		return use
	}
	major, err := strconv.ParseUint(args[2], 0, 32)
	if err != nil || major > maxMajor {
		return fmt.Errorf("invalid major device number '%s'", args[2])
	}
	minor, err := strconv.ParseUint(args[3], 0, 32)
	if err != nil || minor >= 1<<20 {
		return fmt.Errorf("invalid minor device number '%s'", args[3])
	}
	ns, err := root()
	if err != nil {
		return err
	}
	if err := ns.Mknod(t, path, fs.ModeChr|0o644, fs.Mkdev(uint32(major), uint32(minor))); err != nil {
		return pathError(path, err)
	}
	return nil
}

// Mkdir makes directories (mode 0755).
func Mkdir(t *sched.Task, _ io.Writer, args []string) error {
	return eachPath(args, "mkdir DIR...", func(ns *fs.Namespace, p string) error {
		return ns.Mkdir(t, p, 0o755)
	})
}

// Rmdir removes empty directories.
func Rmdir(t *sched.Task, _ io.Writer, args []string) error {
	return eachPath(args, "rmdir DIR...", func(ns *fs.Namespace, p string) error {
		return ns.Rmdir(t, p)
	})
}

// Rm removes files (not directories: "Is a directory").
func Rm(t *sched.Task, _ io.Writer, args []string) error {
	return eachPath(args, "rm FILE...", func(ns *fs.Namespace, p string) error {
		return ns.Unlink(t, p)
	})
}

// eachPath runs op on every argument, stopping at the first failure.
func eachPath(args []string, use usage, op func(ns *fs.Namespace, path string) error) error {
	if len(args) == 0 {
		return use
	}
	ns, err := root()
	if err != nil {
		return err
	}
	for _, p := range args {
		if err := op(ns, p); err != nil {
			return pathError(p, err)
		}
	}
	return nil
}
