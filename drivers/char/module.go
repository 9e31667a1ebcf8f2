package char

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"gomenuos/fs"
)

// Module is a driver that insmod loads and rmmod unloads. Ours are built
// into the kernel image; loading runs Init, unloading Exit (Linux:
// module_init / module_exit of a loadable module).
type Module struct {
	Name string
	// Init registers the driver; out plays printk's part.
	Init func(out io.Writer) error
	// Exit unregisters it; an error (EBUSY while open) keeps it loaded.
	Exit func() error
}

// modules is the table of built-in modules and which are loaded.
// Lock contract: mu guards loaded and is held across Init and Exit, so a
// module is never loaded twice or unloaded while loading.
var modules = struct {
	mu      sync.Mutex
	builtin []Module
	loaded  map[string]bool
}{
	builtin: []Module{{Name: "globalvar", Init: globalvarInit, Exit: globalvarExit}},
	loaded:  map[string]bool{},
}

// ModuleError is insmod's or rmmod's failure, worded like kmod's tools.
type ModuleError struct {
	Op     string // "insert" or "remove"
	Module string
	Err    error // an fs.Errno
}

func (e *ModuleError) Error() string {
	if e.Op == "remove" && e.Err == fs.EBUSY {
		return fmt.Sprintf("ERROR: Module %s is in use", e.Module)
	}
	if e.Op == "remove" && e.Err == fs.ENOENT {
		return fmt.Sprintf("ERROR: Module %s is not currently loaded", e.Module)
	}
	return fmt.Sprintf("ERROR: could not %s module %s: %v", e.Op, e.Module, e.Err)
}

func (e *ModuleError) Unwrap() error { return e.Err }

// Insmod loads the built-in module name ("globalvar" or "globalvar.ko").
// Unknown: ENOENT; already loaded: EEXIST (Linux: init_module).
func Insmod(name string, out io.Writer) error {
	name = strings.TrimSuffix(name, ".ko")
	modules.mu.Lock()
	defer modules.mu.Unlock()
	i := slices.IndexFunc(modules.builtin, func(m Module) bool { return m.Name == name })
	switch {
	case i < 0:
		return &ModuleError{"insert", name, fs.ENOENT}
	case modules.loaded[name]:
		return &ModuleError{"insert", name, fs.EEXIST}
	}
	if err := modules.builtin[i].Init(out); err != nil {
		return &ModuleError{"insert", name, fs.ToErrno(err)}
	}
	modules.loaded[name] = true
	return nil
}

// Rmmod unloads module name; not loaded: ENOENT, device open: EBUSY
// (Linux: delete_module).
func Rmmod(name string) error {
	name = strings.TrimSuffix(name, ".ko")
	modules.mu.Lock()
	defer modules.mu.Unlock()
	if !modules.loaded[name] {
		return &ModuleError{"remove", name, fs.ENOENT}
	}
	i := slices.IndexFunc(modules.builtin, func(m Module) bool { return m.Name == name })
	if err := modules.builtin[i].Exit(); err != nil {
		return &ModuleError{"remove", name, fs.ToErrno(err)}
	}
	delete(modules.loaded, name)
	return nil
}

// Lsmod lists the loaded modules by name.
func Lsmod() []string {
	modules.mu.Lock()
	defer modules.mu.Unlock()
	var names []string
	for _, m := range modules.builtin {
		if modules.loaded[m.Name] {
			names = append(names, m.Name)
		}
	}
	return names
}
