// Command lab is `make lab`: the course's TCP handshake lab under gdb,
// unattended. It boots the image waiting for gdb, traces our counterparts
// of Linux's TCP functions while `replyhi` and `hello` run, and prints
// each hit as `Linux name  ->  our function (file:line)`, then the guest's
// console from replyhi on.
//
// -menu c runs it on the C MenuOS (init=/bin/menu, `make lab-c`): the
// system calls' breakpoints too, and the process of each hit.
//
//	go run ./qemu/lab/cmd/lab [-build DIR] [-menu go|c] [-timeout 3m] [-v]
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"gomenuos/qemu/harness"
	"gomenuos/qemu/lab"
)

func main() {
	build := flag.String("build", harness.BuildDir(), "image directory (boot.elf, kernel.elf, initramfs.cpio)")
	timeout := flag.Duration("timeout", lab.DefaultTimeout, "bound on the whole run")
	verbose := flag.Bool("v", false, "also print gdb's own output")
	menu := flag.String("menu", lab.MenuGo, "the MenuOS typed at: go (the kernel's shell) or c (user/menu as init, over system calls)")
	pictures := flag.String("pictures", "", "directory for SVG pictures of each TCP connection and the context switches (Go shell only)")
	flag.Parse()
	what := "the TCP functions"
	if *menu == lab.MenuC {
		what = "the socket system calls and the TCP functions; init is the C MenuOS (" + lab.CInit + ")"
	}
	fmt.Printf("gdb lab: QEMU waits for gdb (-S); gdb -batch with %s traces %s; typing replyhi, then hello\n", lab.ScriptPath, what)
	res, err := lab.Run(lab.Config{BuildDir: *build, Timeout: *timeout, Menu: *menu, Pictures: *pictures})
	if res != nil {
		for _, w := range res.Warnings {
			fmt.Fprintln(os.Stderr, w)
		}
		lab.Write(os.Stdout, res.Hits)
		fmt.Printf("\nguest console:\n%s\n", fromReplyhi(res.Console))
		if *verbose {
			fmt.Printf("\ngdb's own output:\n%s", res.GDB)
		}
		fmt.Printf("\n%d hits in %.1fs (gdb stub on 127.0.0.1:%d); QEMU stopped\n",
			len(res.Hits), res.Elapsed.Seconds(), res.Port)
		for _, f := range res.Files {
			fmt.Println("wrote", f)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// fromReplyhi is the console from the replyhi command line on, LF ends.
func fromReplyhi(con string) string {
	con = strings.ReplaceAll(con, "\r\n", "\n")
	if i := strings.Index(con, lab.Prompt+"replyhi"); i >= 0 {
		con = con[i:]
	}
	return "  " + strings.ReplaceAll(strings.TrimRight(con, "\n"), "\n", "\n  ")
}
