// Package devfs is the /dev file system: a ramfs mounted on /dev at boot
// in which drivers create their device nodes (Linux: drivers/base/devtmpfs.c).
// The character-device registry itself (RegisterChrdev) lives in package
// fs, as Linux's lives in fs/char_dev.c.
package devfs

import (
	"sync/atomic"

	"gomenuos/fs"
)

// root is the mounted /dev, nil before Mount.
var root atomic.Pointer[fs.Inode]

// Mount makes /dev in ns (if missing) and mounts a fresh devfs on it
// (Linux: devtmpfs_mount). The kernel calls it once at boot, before the
// drivers create their nodes.
func Mount(ns *fs.Namespace) error {
	if err := ns.Mkdir(nil, "/dev", 0o755); err != nil && err != fs.EEXIST {
		return err
	}
	r := fs.NewRamfs(nil)
	if err := ns.Mount("/dev", r); err != nil {
		return err
	}
	root.Store(r)
	return nil
}

// CreateNode makes the character device node /dev/name for dev with
// permission bits perm (Linux: devtmpfs_create_node). Before Mount it is
// ENODEV; an existing name is EEXIST.
func CreateNode(name string, dev fs.DevT, perm fs.Mode) error {
	r := root.Load()
	if r == nil {
		return fs.ENODEV
	}
	_, err := r.Ops.Mknod(r, name, fs.ModeChr|perm&fs.ModePerm, dev)
	return err
}
