package fs

import (
	"cmp"
	"slices"
	"sync"

	"gomenuos/sched"
)

// TaskFiles is one task's descriptor table (Linux: task->files).
type TaskFiles struct {
	Task  *sched.Task // nil for the kernel's own table
	Files *FDTable
}

// taskFiles maps task ids to their descriptor tables.
// Lock contract: mu guards tables.
var taskFiles struct {
	mu     sync.Mutex
	tables map[uint64]TaskFiles
	kernel FDTable // for work done without a task (t == nil), id 0
}

// FilesOf returns t's descriptor table, creating an empty one on first use.
// A nil task gets the kernel's own table.
func FilesOf(t *sched.Task) *FDTable {
	if t == nil {
		return &taskFiles.kernel
	}
	taskFiles.mu.Lock()
	defer taskFiles.mu.Unlock()
	if taskFiles.tables == nil {
		taskFiles.tables = map[uint64]TaskFiles{}
	}
	tf, ok := taskFiles.tables[t.ID()]
	if !ok {
		tf = TaskFiles{t, &FDTable{}}
		taskFiles.tables[t.ID()] = tf
	}
	return tf.Files
}

// FilesByID returns the table of the task with id (0: the kernel's).
func FilesByID(id uint64) (TaskFiles, bool) {
	if id == 0 {
		return TaskFiles{nil, &taskFiles.kernel}, true
	}
	taskFiles.mu.Lock()
	defer taskFiles.mu.Unlock()
	tf, ok := taskFiles.tables[id]
	return tf, ok
}

// AllTaskFiles lists the kernel's table and every task's, by task id.
func AllTaskFiles() []TaskFiles {
	taskFiles.mu.Lock()
	all := []TaskFiles{{nil, &taskFiles.kernel}}
	for _, tf := range taskFiles.tables {
		all = append(all, tf)
	}
	taskFiles.mu.Unlock()
	slices.SortFunc(all[1:], func(a, b TaskFiles) int { return cmp.Compare(a.Task.ID(), b.Task.ID()) })
	return all
}

// ShareFiles makes t use parent's descriptor table, as a thread cloned
// with CLONE_FILES does: what either opens, both see. A nil parent shares
// the kernel's table. The shell uses it so every command of a session sees
// the session's descriptors (ls -l /proc/self/fd shows a socket opened by
// an earlier command). Linux: copy_files with CLONE_FILES.
func ShareFiles(t, parent *sched.Task) {
	ft := FilesOf(parent)
	taskFiles.mu.Lock()
	defer taskFiles.mu.Unlock()
	if taskFiles.tables == nil {
		taskFiles.tables = map[uint64]TaskFiles{}
	}
	taskFiles.tables[t.ID()] = TaskFiles{t, ft}
}

// ExitFiles forgets t's descriptor table and, unless another task shares
// it, closes all its descriptors (Linux: exit_files → put_files_struct).
func ExitFiles(t *sched.Task) {
	taskFiles.mu.Lock()
	tf, ok := taskFiles.tables[t.ID()]
	delete(taskFiles.tables, t.ID())
	shared := tf.Files == &taskFiles.kernel
	for _, o := range taskFiles.tables {
		shared = shared || o.Files == tf.Files
	}
	taskFiles.mu.Unlock()
	if ok && !shared {
		tf.Files.CloseAll()
	}
}
