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

// ExitFiles closes all of t's descriptors and forgets its table
// (Linux: exit_files), for when a task ends.
func ExitFiles(t *sched.Task) {
	taskFiles.mu.Lock()
	tf, ok := taskFiles.tables[t.ID()]
	delete(taskFiles.tables, t.ID())
	taskFiles.mu.Unlock()
	if ok {
		tf.Files.CloseAll()
	}
}
