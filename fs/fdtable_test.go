package fs

import (
	"testing"

	"gomenuos/sched"
)

// countingOps counts releases so the tests can see when a File goes.
type countingOps struct {
	NoFileOps
	released *int
}

func (c countingOps) Release(*File) error { *c.released++; return nil }

func TestFDTableLowestFreeDupAndClose(t *testing.T) {
	var ft FDTable
	released := 0
	ino := NewInode(NewSuperBlock("test", fixedClock), ModeChr|0o666, nil, nil)
	open := func() *File { return NewFile(ino, O_RDWR, countingOps{released: &released}) }

	a, _ := ft.Install(open())
	b, _ := ft.Install(open())
	c, _ := ft.Install(open())
	if a != 0 || b != 1 || c != 2 {
		t.Fatalf("fds %d %d %d, want 0 1 2", a, b, c)
	}
	mustOK(t, ft.Close(1))
	if released != 1 {
		t.Fatalf("released %d after close, want 1", released)
	}
	if fd, _ := ft.Install(open()); fd != 1 {
		t.Fatalf("reinstall got fd %d, want the lowest free, 1", fd)
	}
	d, err := ft.Dup(0)
	if err != nil || d != 3 {
		t.Fatalf("Dup(0) = %d, %v; want 3", d, err)
	}
	mustOK(t, ft.Close(0))
	if released != 1 {
		t.Fatalf("closing one of two dup'd fds released the file")
	}
	if n, err := ft.Dup2(3, 7); n != 7 || err != nil {
		t.Fatalf("Dup2(3,7) = %d, %v", n, err)
	}
	if n, err := ft.Dup2(2, 7); n != 7 || err != nil || released != 1 {
		t.Fatalf("Dup2(2,7) = %d, %v, released %d; want 7 and fd 3 still holding the file", n, err, released)
	}
	var nums []int
	for _, e := range ft.List() {
		nums = append(nums, e.Num)
	}
	if len(nums) != 4 || nums[0] != 1 || nums[1] != 2 || nums[2] != 3 || nums[3] != 7 {
		t.Fatalf("List = %v, want [1 2 3 7]", nums)
	}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"close free", ft.Close(0)},
		{"close negative", ft.Close(-1)},
		{"close past end", ft.Close(99)},
	} {
		if c.err != EBADF {
			t.Errorf("%s: %v, want EBADF", c.name, c.err)
		}
	}
	if _, err := ft.Dup(5); err != EBADF {
		t.Errorf("Dup(5): %v, want EBADF", err)
	}
	if _, err := ft.Get(5); err != EBADF {
		t.Errorf("Get(5): %v, want EBADF", err)
	}
	ft.CloseAll()
	if released != 4 || len(ft.List()) != 0 {
		t.Fatalf("after CloseAll released %d, %d fds left; want 4 and 0", released, len(ft.List()))
	}
}

func TestFDTableLimit(t *testing.T) {
	var ft FDTable
	ino := NewInode(NewSuperBlock("test", fixedClock), ModeChr|0o666, nil, nil)
	for range MaxFDs {
		if _, err := ft.Install(NewFile(ino, O_RDONLY, NoFileOps{})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ft.Install(NewFile(ino, O_RDONLY, NoFileOps{})); err != EMFILE {
		t.Fatalf("install past %d: %v, want EMFILE", MaxFDs, err)
	}
}

func TestFilesOfIsPerTask(t *testing.T) {
	ns := newTree(t)
	a, b := sched.NewTask("a"), sched.NewTask("b")
	fa, err := ns.OpenFD(a, "/etc/motd", O_RDONLY, 0)
	mustOK(t, err)
	fb, err := ns.OpenFD(b, "/etc/motd", O_RDONLY, 0)
	mustOK(t, err)
	if fa != 0 || fb != 0 || FilesOf(a) == FilesOf(b) || FilesOf(a) != FilesOf(a) {
		t.Fatalf("fds %d %d; tables must be per task", fa, fb)
	}
	ExitFiles(a)
	if len(FilesOf(a).List()) != 0 || len(FilesOf(b).List()) != 1 {
		t.Fatal("ExitFiles touched the wrong table")
	}
	if FilesOf(nil) != FilesOf(nil) {
		t.Fatal("nil task has no stable kernel table")
	}
}

func TestShareFilesKeepsTableUntilLastUserExits(t *testing.T) {
	ns := newTree(t)
	shell, cmd := sched.NewTask("shell"), sched.NewTask("ls")
	ShareFiles(cmd, shell)
	fd, err := ns.OpenFD(cmd, "/etc/motd", O_RDONLY, 0)
	mustOK(t, err)
	if FilesOf(shell) != FilesOf(cmd) || len(FilesOf(shell).List()) != 1 {
		t.Fatal("a descriptor opened by the command is not in the shell's table")
	}
	ExitFiles(cmd)
	if _, err := FilesOf(shell).Get(fd); err != nil {
		t.Fatalf("the command's exit closed the shared table: %v", err)
	}
	ExitFiles(shell)
	for _, tf := range AllTaskFiles() {
		if tf.Task == shell || tf.Task == cmd {
			t.Fatalf("%s still has a table after exiting", tf.Task.Name())
		}
	}
	kjob := sched.NewTask("kjob")
	ShareFiles(kjob, nil)
	if FilesOf(kjob) != FilesOf(nil) {
		t.Fatal("ShareFiles(t, nil) does not share the kernel table")
	}
	ExitFiles(kjob)
}
