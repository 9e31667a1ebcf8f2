package main

import (
	"gomenuos/kernel/menu"
)

// registerCommands adds the kernel's own commands to the shell's table.
func registerCommands(sh *menu.Shell) {
	for _, c := range []menu.Command{} {
		_ = sh.Register(c)
	}
}
