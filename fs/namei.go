package fs

import "strings"

// MaxNameLen is the longest path component (Linux: NAME_MAX).
const MaxNameLen = 255

// walk resolves path from the namespace root, component by component
// (Linux: link_path_walk). "." stays, ".." goes back to the directory the
// walk came from (so from a mounted root it reaches the mount point's
// parent, and at the root it stays at the root), and a directory with a
// file system mounted on it is replaced by that file system's root.
// Relative paths start at the root too: tasks have no working directory.
// Symbolic links are not followed.
func (ns *Namespace) walk(path string) (*Inode, error) {
	stack := []*Inode{ns.root}
	for _, name := range strings.Split(path, "/") {
		cur := stack[len(stack)-1]
		switch name {
		case "", ".":
			if !cur.Mode.IsDir() {
				return nil, ENOTDIR
			}
			continue
		case "..":
			if !cur.Mode.IsDir() {
				return nil, ENOTDIR
			}
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		next, err := ns.lookupChild(cur, name)
		if err != nil {
			return nil, err
		}
		stack = append(stack, next)
	}
	return stack[len(stack)-1], nil
}

// lookupChild finds name in dir and crosses a mount on it
// (Linux: lookup_fast/lookup_slow + follow_mount).
func (ns *Namespace) lookupChild(dir *Inode, name string) (*Inode, error) {
	if !dir.Mode.IsDir() || dir.Ops == nil {
		return nil, ENOTDIR
	}
	if len(name) > MaxNameLen {
		return nil, ENAMETOOLONG
	}
	child, err := dir.Ops.Lookup(dir, name)
	if err != nil {
		return nil, err
	}
	return ns.followMount(child), nil
}

// walkParent resolves all of path but its last component and returns the
// directory and that component (Linux: filename_parentat). The last
// component must be a real name: "/", "." and ".." are EINVAL.
func (ns *Namespace) walkParent(path string) (*Inode, string, error) {
	path = strings.TrimRight(path, "/")
	i := strings.LastIndexByte(path, '/')
	name := path[i+1:]
	switch {
	case name == "" || name == "." || name == "..":
		return nil, "", EINVAL
	case len(name) > MaxNameLen:
		return nil, "", ENAMETOOLONG
	}
	dir, err := ns.walk(path[:i+1])
	if err != nil {
		return nil, "", err
	}
	if !dir.Mode.IsDir() || dir.Ops == nil {
		return nil, "", ENOTDIR
	}
	return dir, name, nil
}
