package fs

import (
	"strings"

	"gomenuos/sched"
)

// Path-walk limits (Linux: NAME_MAX, MAXSYMLINKS).
const (
	MaxNameLen  = 255
	MaxSymlinks = 40
)

// walker is one path walk in progress (Linux: struct nameidata): the
// directories it came through (so ".." goes back the way it came) and the
// components still to walk.
type walker struct {
	ns    *Namespace
	t     *sched.Task // whose view: /proc/self depends on it
	stack []*Inode
	names []string // the components of stack[1:]: the path walked so far
	rest  []string
	links int // symbolic links followed so far
}

// walk resolves path from the namespace root, component by component
// (Linux: link_path_walk). "." stays, ".." goes back to the directory the
// walk came from (so from a mounted root it reaches the mount point's
// parent, and at the root it stays at the root), a directory with a file
// system mounted on it is replaced by that file system's root, and
// symbolic links are followed, the last one only if followLast. Relative
// paths start at the root too: tasks have no working directory; the empty
// path is ENOENT.
func (ns *Namespace) walk(t *sched.Task, path string, followLast bool) (*Inode, error) {
	if path == "" {
		return nil, ENOENT // Linux: getname refuses an empty name
	}
	w := &walker{ns: ns, t: t, stack: []*Inode{ns.root}, rest: strings.Split(path, "/")}
	for len(w.rest) > 0 {
		name := w.rest[0]
		w.rest = w.rest[1:]
		if err := w.step(name, followLast || len(w.rest) > 0); err != nil {
			return nil, err
		}
	}
	return w.top(), nil
}

func (w *walker) top() *Inode { return w.stack[len(w.stack)-1] }

// step walks one component (Linux: walk_component).
func (w *walker) step(name string, follow bool) error {
	cur := w.top()
	if !cur.Mode.IsDir() {
		return ENOTDIR
	}
	switch name {
	case "", ".":
		return nil
	case "..":
		if len(w.stack) > 1 {
			w.stack = w.stack[:len(w.stack)-1]
			w.names = w.names[:len(w.names)-1]
		}
		return nil
	}
	next, err := w.ns.lookupChild(cur, name)
	if err != nil {
		return err
	}
	if next.Mode.Type() == ModeLink && follow {
		return w.followLink(next)
	}
	w.stack = append(w.stack, next)
	w.names = append(w.names, name)
	return nil
}

// followLink splices the link's target into the walk: an absolute target
// restarts at the root, a relative one continues in the link's directory
// (Linux: pick_link + step_into).
func (w *walker) followLink(link *Inode) error {
	if w.links++; w.links > MaxSymlinks {
		return ELOOP
	}
	target, err := Readlink(w.t, link)
	if err != nil {
		return err
	}
	if strings.HasPrefix(target, "/") {
		w.stack, w.names = w.stack[:1], w.names[:0]
	}
	w.rest = append(strings.Split(target, "/"), w.rest...)
	return nil
}

// Resolve returns the canonical name of path: absolute, every symbolic
// link followed, no "." or ".." (Linux: d_path of the walked path, what
// realpath(3) and /proc/<pid>/exe show).
func (ns *Namespace) Resolve(t *sched.Task, path string) (string, error) {
	if path == "" {
		return "", ENOENT
	}
	w := &walker{ns: ns, t: t, stack: []*Inode{ns.root}, rest: strings.Split(path, "/")}
	for len(w.rest) > 0 {
		name := w.rest[0]
		w.rest = w.rest[1:]
		if err := w.step(name, true); err != nil {
			return "", err
		}
	}
	return "/" + strings.Join(w.names, "/"), nil
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
func (ns *Namespace) walkParent(t *sched.Task, path string) (*Inode, string, error) {
	if path == "" {
		return nil, "", ENOENT
	}
	path = strings.TrimRight(path, "/")
	i := strings.LastIndexByte(path, '/')
	name := path[i+1:]
	switch {
	case name == "" || name == "." || name == "..":
		return nil, "", EINVAL
	case len(name) > MaxNameLen:
		return nil, "", ENAMETOOLONG
	}
	dir, err := ns.walk(t, path[:i+1], true)
	if err != nil {
		return nil, "", err
	}
	if !dir.Mode.IsDir() || dir.Ops == nil {
		return nil, "", ENOTDIR
	}
	return dir, name, nil
}
