# gomenuos.gdb: gdb's set-up for a guest started by `make debug` (qemu/run.sh
# debug: QEMU's gdb stub on a port it prints, CPU stopped). `make gdb` loads
# the kernel's symbols, attaches and then sources this from the repo root:
#   gdb -ex 'file build/kernel.elf' -ex 'target remote :1234' -x qemu/gdb/gomenuos.gdb
# Go names work as breakpoints, quoted when they hold parentheses:
#   break 'gomenuos/kernel/menu.(*Shell).dispatch'    # a typed shell command
#   continue
# `info goroutines` and `goroutine N bt` come from Go's runtime-gdb.py, as
# goroutines.py fits them to our kernel (it marks the goroutine on the CPU
# and shows where running goroutines really are).

set pagination off
set confirm off
# Let gdb load $GOROOT/src/runtime/runtime-gdb.py, which the kernel ELF's
# .debug_gdb_scripts section names (run.sh adds `go env GOROOT` the same way).
add-auto-load-safe-path /usr/local/go
source qemu/gdb/goroutines.py

# menu-break: stop when the shell runs the next command line.
define menu-break
  break 'gomenuos/kernel/menu.(*Shell).dispatch'
end
document menu-break
Break in the MenuOS shell's dispatcher: type a command in QEMU to stop there.
end

# tcp-lab: the course's two TCP breakpoints, tcp_v4_connect and
# inet_csk_accept, under their Go names (docs/linux-map.md). Then
# `continue` and type `replyhi` and `hello` in QEMU.
define tcp-lab
  break 'gomenuos/net/tcp.(*Sock).tcpV4ConnectLocked'
  break 'gomenuos/net/inet.(*Socket).inetCskAccept'
end
document tcp-lab
Break where the TCP lab does: tcp_v4_connect and inet_csk_accept (Go names).
end

# User processes seen from the kernel (docs/gdb-lab.md, "The lab on the C
# program"): `bt` at a kernel breakpoint goes on below the process's run
# loop into the user's own frames (accept <- serve <- Replyhi <- main)
# once `user-symbols` has loaded the program's symbols (default: the C
# MenuOS, build/rootfs/bin/menu); `info user` names the process on the CPU;
# `user-context bt full` shows the program's frames with their locals.
source qemu/gdb/userframes.py

# tcp-lab-all, tcp-lab-trace, tcp-lab-summary: every function of the TCP
# handshake walkthrough (tcp_v4_connect, inet_csk_accept, tcp_v4_rcv,
# tcp_v4_do_rcv, tcp_rcv_state_process, tcp_v4_conn_request, tcp_check_req,
# ...), each hit printed as `Linux name -> our function (file:line)`; and
# linux-break NAME, a breakpoint by Linux name (docs/linux-map.md).
# See docs/gdb-lab.md; `make lab` runs the same breakpoints unattended.
source qemu/gdb/tcplab.py
