package fs

import (
	"fmt"
	"gomenuos/sched"
	"io"
	"slices"
	"sync"
)

// Character device registry (Linux: fs/char_dev.c). A driver registers a
// range of minors of a major with its file operations; opening a device
// node finds the driver through the node's rdev.

// Major-number limits (Linux: CHRDEV_MAJOR_MAX and the dynamic ranges).
const (
	ChrdevMajorMax         = 512
	chrdevMajorDynStart    = 254 // dynamic majors are handed out from here down
	chrdevMajorDynEnd      = 234
	chrdevMajorDynExtStart = 511 // then from here down
	chrdevMajorDynExtEnd   = 384
	minorsPerMajor         = 256 // what register_chrdev claims
)

// charDevice is one registered range (Linux: struct char_device_struct).
type charDevice struct {
	major, baseMinor, count uint32
	name                    string
	fops                    FileOperations
	opens                   int // files open on the range; guarded by chrdevs.mu
}

// chrdevs is the registry. Lock contract: mu guards list (kept sorted by
// major, then base minor) and every entry's opens.
var chrdevs struct {
	mu   sync.Mutex
	list []*charDevice
}

// RegisterChrdev registers minors 0-255 of major for fops and returns the
// major; major 0 asks for a free one, taken from 254 downwards and then
// from 511 downwards. Linux: register_chrdev.
func RegisterChrdev(major uint32, name string, fops FileOperations) (uint32, error) {
	return RegisterChrdevRegion(major, 0, minorsPerMajor, name, fops)
}

// RegisterChrdevRegion registers count minors from baseMinor of major
// (major 0: a dynamic one). An overlap with a registered range is EBUSY,
// a major of 512 or more EINVAL. Linux: __register_chrdev.
func RegisterChrdevRegion(major, baseMinor, count uint32, name string, fops FileOperations) (uint32, error) {
	if major >= ChrdevMajorMax || count == 0 || count > 1<<20-baseMinor || baseMinor >= 1<<20 || name == "" || fops == nil {
		return 0, EINVAL
	}
	chrdevs.mu.Lock()
	defer chrdevs.mu.Unlock()
	if major == 0 {
		var err error
		if major, err = findDynamicMajorLocked(); err != nil {
			return 0, err
		}
	}
	cd := &charDevice{major: major, baseMinor: baseMinor, count: count, name: name, fops: fops}
	i := 0
	for ; i < len(chrdevs.list); i++ {
		o := chrdevs.list[i]
		if o.major == major && baseMinor < o.baseMinor+o.count && o.baseMinor < baseMinor+count {
			return 0, EBUSY
		}
		if o.major > major || o.major == major && o.baseMinor > baseMinor {
			break
		}
	}
	chrdevs.list = slices.Insert(chrdevs.list, i, cd)
	return major, nil
}

// findDynamicMajorLocked returns the highest free major of the dynamic
// ranges (Linux: find_dynamic_major).
func findDynamicMajorLocked() (uint32, error) {
	used := map[uint32]bool{}
	for _, cd := range chrdevs.list {
		used[cd.major] = true
	}
	for m := uint32(chrdevMajorDynStart); m >= chrdevMajorDynEnd; m-- {
		if !used[m] {
			return m, nil
		}
	}
	for m := uint32(chrdevMajorDynExtStart); m >= chrdevMajorDynExtEnd; m-- {
		if !used[m] {
			return m, nil
		}
	}
	return 0, EBUSY
}

// UnregisterChrdev removes the ranges of major registered under name.
// None registered: EINVAL; a device of it still open: EBUSY, and nothing
// changes (Linux: unregister_chrdev, whose EBUSY comes from the module
// refcount that try_module_get takes on open).
func UnregisterChrdev(major uint32, name string) error {
	chrdevs.mu.Lock()
	defer chrdevs.mu.Unlock()
	found := false
	for _, cd := range chrdevs.list {
		if cd.major == major && cd.name == name {
			found = true
			if cd.opens > 0 {
				return EBUSY
			}
		}
	}
	if !found {
		return EINVAL
	}
	chrdevs.list = slices.DeleteFunc(chrdevs.list, func(cd *charDevice) bool {
		return cd.major == major && cd.name == name
	})
	return nil
}

// WriteChrdevs writes the "Character devices:" part of /proc/devices, one
// "%3d name" line per registered range in major order, and the empty block
// device part (Linux: devinfo_show → chrdev_show).
func WriteChrdevs(w io.Writer) error {
	chrdevs.mu.Lock()
	defer chrdevs.mu.Unlock()
	if _, err := io.WriteString(w, "Character devices:\n"); err != nil {
		return err
	}
	for _, cd := range chrdevs.list {
		if _, err := fmt.Fprintf(w, "%3d %s\n", cd.major, cd.name); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\nBlock devices:\n")
	return err
}

// InitSpecialInode gives a device node or socket inode made by a file
// system the operations its type opens with (Linux: init_special_inode).
// Sockets and FIFOs made with mknod cannot be opened (ENXIO).
func InitSpecialInode(inode *Inode) {
	if inode.Mode.Type() == ModeChr {
		inode.Fops = defChrFops{}
	}
}

// defChrFops is what a character device node opens with before the driver
// is found (Linux: def_chr_fops).
type defChrFops struct{ NoFileOps }

// Open finds the driver of the node's rdev, counts the open against it and
// hands the file to the driver's operations (Linux: chrdev_open).
func (defChrFops) Open(inode *Inode, f *File) error {
	cd, err := chrdevGet(inode.Rdev)
	if err != nil {
		return err
	}
	f.ReplaceOps(cd.fops)
	if o, ok := cd.fops.(Opener); ok {
		if err := o.Open(inode, f); err != nil {
			chrdevPut(cd)
			return err
		}
	}
	// Wrap what the driver chose (it may pick per-minor operations), so
	// the last close always drops the open count.
	f.ReplaceOps(chrdevFile{f.Ops(), cd})
	return nil
}

// chrdevGet finds the range holding dev and counts an open on it
// (Linux: kobj_lookup + try_module_get); no driver is ENXIO.
func chrdevGet(dev DevT) (*charDevice, error) {
	chrdevs.mu.Lock()
	defer chrdevs.mu.Unlock()
	for _, cd := range chrdevs.list {
		if cd.major == dev.Major() && dev.Minor() >= cd.baseMinor && dev.Minor()-cd.baseMinor < cd.count {
			cd.opens++
			return cd, nil
		}
	}
	return nil, ENXIO
}

func chrdevPut(cd *charDevice) {
	chrdevs.mu.Lock()
	defer chrdevs.mu.Unlock()
	cd.opens--
}

// chrdevFile wraps a driver's operations so the last close of the file
// drops the open count that UnregisterChrdev checks (Linux: module_put in
// __fput).
type chrdevFile struct {
	FileOperations
	cd *charDevice
}

func (c chrdevFile) Release(f *File) error {
	err := c.FileOperations.Release(f)
	chrdevPut(c.cd)
	return err
}

// PollQueues forwards to the driver's, so poll(2) sleeps where the
// driver's readers and writers do; a driver without any polls as always
// ready.
func (c chrdevFile) PollQueues(f *File) []*sched.WaitQueue {
	if pw, ok := c.FileOperations.(PollWaiter); ok {
		return pw.PollQueues(f)
	}
	return nil
}
