// Command dump prints the ksyms table of its own image, one function a
// line: entry end name. ksyms_test.go builds it with symbols kept and
// compares the lines with its ELF symbol table.
package main

import (
	"fmt"
	"os"

	"gomenuos/kernel/ksyms"
)

func main() {
	t, err := ksyms.Kernel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("text %x %x\n", t.TextStart, t.TextEnd)
	for _, s := range t.Syms {
		fmt.Printf("%x %x %s\n", s.Entry, s.End, s.Name)
	}
}
