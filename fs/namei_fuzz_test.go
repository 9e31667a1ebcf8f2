package fs

import (
	"path"
	"testing"
)

// FuzzPathWalk: any path either fails with an errno or reaches the same
// inode as its lexically cleaned form (the walk treats ".." lexically and
// ramfs has no symbolic links); nothing panics.
// go test -fuzz FuzzPathWalk -fuzztime 10s ./fs
func FuzzPathWalk(f *testing.F) {
	for _, s := range []string{"/etc/motd", "/tmp/../etc/./motd", "//dev/null/..", "../../", "/dev/../dev/null", "a/b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		ns := newTree(t)
		mustOK(t, ns.Mkdir(nil, "/dev", 0o755))
		mustOK(t, ns.Mount("/dev", NewRamfs(fixedClock)))
		mustOK(t, ns.Mknod(nil, "/dev/null", ModeChr|0o666, Mkdev(1, 3)))
		got, err := ns.Lookup(nil, p)
		if err != nil {
			if _, ok := err.(Errno); !ok {
				t.Fatalf("Lookup(%q) error %v is not an Errno", p, err)
			}
			return
		}
		clean, err := ns.Lookup(nil, path.Clean("/"+p))
		if err != nil || clean != got {
			t.Fatalf("Lookup(%q) and Lookup(%q) differ: %v", p, path.Clean("/"+p), err)
		}
	})
}
