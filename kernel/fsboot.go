package main

import (
	"fmt"
	"io"
	"time"

	"gomenuos/arch/x86"
	"gomenuos/drivers/char"
	"gomenuos/drivers/tty"
	"gomenuos/drivers/uart"
	"gomenuos/fs"
	"gomenuos/fs/devfs"
	"gomenuos/fs/initramfs"
	"gomenuos/fs/procfs"
	"gomenuos/fs/shellcmd"
	"gomenuos/kernel/linux"
	"gomenuos/kernel/menu"
	"gomenuos/sched"
)

// bootFS builds the root namespace: the initramfs unpacked into a ramfs,
// devfs on /dev, procfs on /proc, and the built-in char devices.
func bootFS(con *tty.TTY) error {
	ns := fs.NewRoot()
	if err := initramfs.Unpack(ns, linux.Initrd()); err != nil {
		return err
	}
	for _, err := range []error{devfs.Mount(ns), procfs.Mount(ns), char.Init()} {
		if err != nil {
			return err
		}
	}
	char.SetConsole(con)
	fs.SetRoot(ns)
	procfs.Mounts = []string{"rootfs / rootfs rw 0 0", "devtmpfs /dev devtmpfs rw 0 0", "proc /proc proc rw 0 0"}
	procfsSources()
	return nil
}

// procfsSources feeds /proc from the kernel's own tables.
func procfsSources() {
	procfs.SetMemInfo(func() procfs.MemInfo {
		total, free, _ := linux.MemInfo()
		return procfs.MemInfo{Total: total, Free: free, Available: free}
	})
	procfs.SetUptime(func() (up, idle time.Duration) {
		return time.Duration(linux.UptimeNS()), time.Duration(linux.IdleNS())
	})
	procfs.SetInterrupts(func() []procfs.IRQ {
		counts := linux.IRQCounts()
		names := map[int]string{0: "timer", 4: "ttyS0"}
		var out []procfs.IRQ
		for line, n := range counts {
			if n == 0 && names[line] == "" {
				continue
			}
			name := names[line]
			if name == "" {
				name = "irq"
			}
			out = append(out, procfs.IRQ{Num: line, Count: n, Chip: "XT-PIC", Name: name})
		}
		for i, n := range linux.MSICounts() {
			if n != 0 {
				out = append(out, procfs.IRQ{Num: x86.VectorMSIBase + i, Count: n, Chip: "PCI-MSI", Name: "virtio0"})
			}
		}
		return out
	})
	if err := procfs.Register("tty/driver/serial", showSerial); err != nil {
		panic(err)
	}
	procfs.SetThreads(func() []procfs.Thread {
		var out []procfs.Thread
		for _, t := range linux.Threads() {
			out = append(out, procfs.Thread{TID: int(t.TID), State: t.State, CPUTime: time.Duration(t.CPUTime), Name: "go-m/" + t.Wait})
		}
		return out
	})
}

// showSerial is /proc/tty/driver/serial: COM1's byte counts, and its
// overruns when there were any (Linux: uart_line_info).
func showSerial(w io.Writer) {
	tx, rx, overruns, _ := uart.Counts()
	fmt.Fprintf(w, "serinfo:1.0 driver revision:\n0: uart:16550A port:%08X irq:%d tx:%d rx:%d", uart.COM1, uart.IRQ, tx, rx)
	if overruns > 0 {
		fmt.Fprintf(w, " oe:%d", overruns)
	}
	fmt.Fprintln(w)
}

// registerFSCommands adds the file and device commands (ls, cat, echo,
// mknod, insmod, ...) to the shell.
func registerFSCommands(sh *menu.Shell) {
	for _, c := range append(shellcmd.Commands(), char.Commands()...) {
		run := c.Run
		if err := sh.Register(menu.Command{Name: c.Name, Desc: c.Desc,
			Run: func(x *menu.Ctx, a []string) error { return run(x.Task, x.Out, a) }}); err != nil {
			panic(err)
		}
	}
}

// openConsoleFDs gives the shell descriptors 0, 1 and 2 on /dev/console,
// as init gets them on Linux; commands share the shell's table.
func openConsoleFDs(t *sched.Task) error {
	for fd := 0; fd < 3; fd++ {
		got, err := fs.Root().OpenFD(t, "/dev/console", fs.O_RDWR, 0)
		if err != nil {
			return err
		}
		if got != fd {
			return fmt.Errorf("got fd %d, want %d", got, fd)
		}
	}
	return nil
}
