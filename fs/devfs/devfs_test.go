package devfs

import (
	"testing"

	"gomenuos/fs"
)

func TestMountAndCreateNode(t *testing.T) {
	root.Store(nil)
	if err := CreateNode("null", fs.Mkdev(1, 3), 0o666); err != fs.ENODEV {
		t.Fatalf("CreateNode before Mount: %v, want ENODEV", err)
	}
	ns := fs.NewRoot()
	if err := Mount(ns); err != nil {
		t.Fatal(err)
	}
	if err := CreateNode("null", fs.Mkdev(1, 3), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := CreateNode("null", fs.Mkdev(1, 3), 0o666); err != fs.EEXIST {
		t.Fatalf("second CreateNode: %v, want EEXIST", err)
	}
	i, err := ns.Lookup(nil, "/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	if st := i.Stat(); st.Mode != fs.ModeChr|0o666 || st.Rdev != fs.Mkdev(1, 3) {
		t.Fatalf("/dev/null: %v rdev %#x", st.Mode, st.Rdev)
	}
	// The seed's demo: users add nodes with mknod next to the drivers' own.
	if err := ns.Mknod(nil, "/dev/globalvar", fs.ModeChr|0o644, fs.Mkdev(254, 0)); err != nil {
		t.Fatal(err)
	}
	ents, _ := ns.ReadDir(nil, "/dev")
	if len(ents) != 2 || ents[0].Name != "globalvar" || ents[1].Name != "null" {
		t.Fatalf("/dev lists %v", ents)
	}
	if err := Mount(ns); err != fs.EBUSY {
		t.Fatalf("second Mount: %v, want EBUSY", err)
	}
}
