#!/bin/sh
# qemu/run.sh: the QEMU and gdb command lines behind `make run`, `make debug`
# and `make gdb`, so the Makefile, the README and the tests agree on them.
#
#   qemu/run.sh run    boot; the serial console is this terminal (or pipe)
#   qemu/run.sh debug  the same guest with its CPU stopped, waiting for gdb
#   qemu/run.sh gdb    attach gdb (symbols, Go helpers) to the `debug` guest
#
# Environment: GOMENUOS_BUILD (image directory, default <repo>/build),
# CMDLINE (kernel command line), QEMU_EXTRA (more QEMU arguments, split on
# spaces), QEMU_MEM (default 512M). Networking (a virtio-net NIC, the same
# arguments as qemu/harness/net.go):
#   NET=user (default)  user-mode net; host 127.0.0.1:HOSTFWD_PORT forwards
#                       to the guest's 5001. HOSTFWD_PORT defaults to 5001,
#                       or a free port (printed) when 5001 is taken.
#   HOSTFWD="tcp:127.0.0.1:15001-:5001 ..."  QEMU's forwards, verbatim
#   NET=tap:IFNAME      an existing tap device
#   NET=none            no NIC
#   PCAP=file.pcap      capture the NIC's frames
# gdb: GDB_PORT defaults to 1234, or a free port (printed) when 1234 is
# taken; `debug` writes the port to $GOMENUOS_BUILD/gdb.port, where `gdb`
# reads it (GDB_PORT set for `gdb` wins).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${GOMENUOS_BUILD:-$root/build}
mode=${1:-run}
goroot=$(go env GOROOT 2>/dev/null || echo /usr/local/go)
portfile=$build/gdb.port

say() { echo "run.sh: $*" >&2; }

need_tools() {
	command -v qemu-system-x86_64 >/dev/null 2>&1 && command -v ss >/dev/null 2>&1 && return
	"$root/scripts/deps.sh"
}

need_image() {
	for f in boot.elf kernel.elf initramfs.cpio; do
		if [ ! -f "$build/$f" ]; then
			say "$build/$f missing; run \`make image\` first"
			exit 2
		fi
	done
}

# in_use PORT: something listens on TCP PORT, on any address.
in_use() { ss -Htln "sport = :$1" | grep -q .; }

# free_port prints a TCP port nobody listens on, below the kernel's
# ephemeral range so that no connect() picks it meanwhile.
free_port() {
	eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	i=0
	while [ $i -lt 200 ]; do
		r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + r % (eph - 20000)))
		in_use "$p" || { echo "$p"; return; }
		i=$((i + 1))
	done
	say "no free TCP port found"
	exit 2
}

# pick_port VAR DEFAULT WHAT: the port the user set in VAR (it must be
# free), else DEFAULT when free, else a free one, said in one line (WHAT
# is a printf format for the port chosen).
pick_port() {
	eval "chosen=\${$1:-}"
	if [ -n "$chosen" ]; then
		if in_use "$chosen"; then
			say "$1=$chosen: port $chosen is in use; pick another"
			exit 2
		fi
		echo "$chosen"
		return
	fi
	if ! in_use "$2"; then
		echo "$2"
		return
	fi
	p=$(free_port)
	# shellcheck disable=SC2059 # $3 is the format
	say "port $2 is in use (another guest?); $(printf "$3" "$p") instead ($1= to choose)"
	echo "$p"
}

# console: a pipe gets plain -serial stdio (what the test harness uses); a
# terminal gets Ctrl-C passed to the guest (signal=off) and QEMU's Ctrl-A
# escapes (Ctrl-A x quits) through a mux with the monitor.
console() {
	if [ -t 0 ]; then
		echo "-chardev stdio,id=con0,mux=on,signal=off -serial chardev:con0 -mon chardev=con0"
	else
		echo "-serial stdio -monitor none"
	fi
}

# net_args prints the NIC arguments NET, HOSTFWD and PCAP ask for
# (hostfwd is the forward list chosen by choose_hostfwd).
net_args() {
	nic="-device virtio-net-pci,netdev=n0,romfile="
	case $NET in
	none)
		nic=
		;;
	user)
		netdev=user,id=n0
		for f in $hostfwd; do netdev=$netdev,hostfwd=$f; done
		echo "-netdev $netdev"
		;;
	tap:*)
		echo "-netdev tap,id=n0,ifname=${NET#tap:},script=no,downscript=no"
		;;
	*)
		say "NET=$NET: want user, tap:IFNAME or none"
		exit 2
		;;
	esac
	echo "$nic"
	if [ -n "${PCAP:-}" ]; then
		[ -n "$nic" ] || { say "PCAP needs NET"; exit 2; }
		echo "-object filter-dump,id=dump0,netdev=n0,file=$PCAP"
	fi
}

# choose_hostfwd sets hostfwd (and fwdport, the host port of the guest's
# 5001) for NET=user.
choose_hostfwd() {
	hostfwd= fwdport=
	[ "$NET" = user ] || return 0
	if [ "${HOSTFWD+set}" = set ]; then
		hostfwd=$HOSTFWD
		return
	fi
	fwdport=$(pick_port HOSTFWD_PORT 5001 "host port %s forwards to the guest's 5001")
	hostfwd=tcp:127.0.0.1:$fwdport-:5001
}

# qemu starts the guest; with exec=exec it replaces this shell.
# Not -nographic: it makes SeaBIOS read keys from the serial port and eat
# input typed (or piped) during boot; see qemu/harness/config.go.
exec=
qemu() {
	# shellcheck disable=SC2046,SC2086 # word splitting of the option lists is wanted
	$exec qemu-system-x86_64 -accel tcg -m "${QEMU_MEM:-512M}" \
		-display none -vga none -nic none -no-reboot \
		-kernel "$build/boot.elf" -initrd "$build/kernel.elf,$build/initramfs.cpio" \
		-append "${CMDLINE:-}" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		$(console) $(net_args) "$@" ${QEMU_EXTRA:-}
}

# prepare: tools, image, and the NIC's arguments checked before QEMU starts.
prepare() {
	need_tools
	need_image
	NET=${NET:-user}
	choose_hostfwd
	net_args >/dev/null
}

# gdb_cmd PORT prints the gdb command line `gdb` runs (for the by-hand hint).
gdb_cmd() {
	echo "gdb -q -iex 'add-auto-load-safe-path $goroot' -ex 'file $build/kernel.elf' -ex 'target remote 127.0.0.1:$1' -x qemu/gdb/gomenuos.gdb"
}

case $mode in
run)
	prepare
	if [ -t 0 ]; then
		[ -z "$fwdport" ] || say "host 127.0.0.1:$fwdport is forwarded to the guest's port 5001"
		say "type quit to power off; Ctrl-A x kills QEMU"
	fi
	exec=exec
	qemu
	;;
debug)
	prepare
	port=$(pick_port GDB_PORT 1234 "gdb's stub waits on port %s")
	[ -z "$fwdport" ] || say "host 127.0.0.1:$fwdport is forwarded to the guest's port 5001"
	cat >&2 <<-MSG
	run.sh: QEMU waits for gdb on 127.0.0.1:$port. In another terminal:
	  make gdb    (or: cd $root && $(gdb_cmd "$port"))
	then e.g.: break 'gomenuos/kernel/menu.(*Shell).dispatch'  and  continue
	MSG
	echo "$port" >"$portfile"
	status=0
	qemu -gdb "tcp:127.0.0.1:$port" -S || status=$?
	# Forget the port unless a newer `debug` took the file over.
	[ "$(cat "$portfile" 2>/dev/null)" != "$port" ] || rm -f "$portfile"
	exit $status
	;;
gdb)
	need_tools
	command -v gdb >/dev/null 2>&1 || "$root/scripts/deps.sh"
	port=${GDB_PORT:-$(cat "$portfile" 2>/dev/null || echo 1234)}
	# A guest started a moment ago may not listen yet: wait up to 30 s.
	i=0
	until in_use "$port"; do
		if [ $i -ge 150 ]; then
			say "no guest waits for gdb on 127.0.0.1:$port; start one with \`make debug\`"
			exit 2
		fi
		sleep 0.2
		i=$((i + 1))
	done
	say "attaching to the guest on 127.0.0.1:$port"
	cd "$root"
	exec gdb -q -iex "add-auto-load-safe-path $goroot" -ex "file $build/kernel.elf" \
		-ex "target remote 127.0.0.1:$port" -x qemu/gdb/gomenuos.gdb
	;;
*)
	echo "usage: $0 run|debug|gdb" >&2
	exit 2
	;;
esac
