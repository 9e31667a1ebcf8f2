# gomenuos.gdb: attach gdb to a guest started by `make debug` (qemu/run.sh
# debug: QEMU's gdb stub on :1234, CPU stopped). Source it from the repo root:
#   gdb -x qemu/gdb/gomenuos.gdb        (what `make gdb` runs)
# Go names work as breakpoints, quoted when they hold parentheses:
#   break 'gomenuos/kernel/menu.(*Shell).dispatch'    # a typed shell command
#   continue
# and `info goroutines`, `goroutine N bt` come from Go's runtime-gdb.py.

set pagination off
set confirm off
# Let gdb load $GOROOT/src/runtime/runtime-gdb.py, which the kernel ELF's
# .debug_gdb_scripts section names (run.sh adds `go env GOROOT` the same way).
add-auto-load-safe-path /usr/local/go
file build/kernel.elf
target remote :1234

# menu-break: stop when the shell runs the next command line.
define menu-break
  break 'gomenuos/kernel/menu.(*Shell).dispatch'
end
document menu-break
Break in the MenuOS shell's dispatcher: type a command in QEMU to stop there.
end

# tcp-lab: the course's TCP breakpoints under their Go names (see
# docs/linux-map.md); rbreak matches whichever package defines them. Then
# `continue` and type `replyhi` and `hello` in QEMU.
define tcp-lab
  rbreak \.tcpV4Connect$
  rbreak \.inetCskAccept$
end
document tcp-lab
Break where the TCP lab does: tcp_v4_connect and inet_csk_accept (Go names).
end
