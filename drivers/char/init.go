package char

import (
	"gomenuos/fs"
	"gomenuos/fs/devfs"
)

// Init registers the always-present drivers (mem: null, zero, urandom;
// the console) and creates their nodes in /dev. The kernel calls it at boot
// after devfs.Mount; SetConsole plugs the terminal in, before or after.
func Init() error {
	if _, err := fs.RegisterChrdev(MemMajor, "mem", memFops{}); err != nil {
		return err
	}
	if _, err := fs.RegisterChrdevRegion(ConsoleMajor, ConsoleMinor, 1, "/dev/console", consoleFops{}); err != nil {
		return err
	}
	for _, n := range []struct {
		name string
		dev  fs.DevT
		perm fs.Mode
	}{
		{"null", fs.Mkdev(MemMajor, MinorNull), 0o666},
		{"zero", fs.Mkdev(MemMajor, MinorZero), 0o666},
		{"urandom", fs.Mkdev(MemMajor, MinorURandom), 0o666},
		{"console", fs.Mkdev(ConsoleMajor, ConsoleMinor), 0o600},
	} {
		if err := devfs.CreateNode(n.name, n.dev, n.perm); err != nil {
			return err
		}
	}
	return nil
}
