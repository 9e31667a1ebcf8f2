// Command kernel is gomenuos: the stock Go runtime hosted on bare metal by
// package linux, bringing up drivers, filesystems, networking and the
// MenuOS shell.
package main

import (
	"fmt"
	"time"

	"gomenuos/kernel/linux"
)

func main() {
	fmt.Println("hello from Go", time.Now())
	time.Sleep(100 * time.Millisecond)
	fmt.Println("slept")
	linux.PowerOff()
}
