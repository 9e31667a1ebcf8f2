package fs

import (
	"sync"

	"gomenuos/sched"
)

// taskFiles maps each task to its descriptor table (Linux: task->files).
// Lock contract: mu guards tables.
var taskFiles struct {
	mu     sync.Mutex
	tables map[uint64]*FDTable
	kernel FDTable // for work done without a task (t == nil)
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
		taskFiles.tables = map[uint64]*FDTable{}
	}
	ft, ok := taskFiles.tables[t.ID()]
	if !ok {
		ft = &FDTable{}
		taskFiles.tables[t.ID()] = ft
	}
	return ft
}

// ExitFiles closes all of t's descriptors and forgets its table
// (Linux: exit_files), for when a task ends.
func ExitFiles(t *sched.Task) {
	taskFiles.mu.Lock()
	ft := taskFiles.tables[t.ID()]
	delete(taskFiles.tables, t.ID())
	taskFiles.mu.Unlock()
	if ft != nil {
		ft.CloseAll()
	}
}
