#!/bin/sh
# qemu/run.sh: the QEMU and gdb command lines behind `make run`, `make debug`
# and `make gdb`, so the Makefile, the README and the tests agree on them.
#
#   qemu/run.sh run    boot; the serial console is this terminal (or pipe)
#   qemu/run.sh debug  boot with the CPU stopped and gdb's stub on :1234
#   qemu/run.sh gdb    attach gdb (symbols, Go helpers) to a `debug` guest
#
# Environment: GOMENUOS_BUILD (image directory, default <repo>/build),
# CMDLINE (kernel command line), QEMU_EXTRA (more QEMU arguments, split on
# spaces), QEMU_MEM (default 512M). Networking (a virtio-net NIC, the same
# arguments as qemu/harness/net.go):
#   NET=user  HOSTFWD="tcp:127.0.0.1:15001-:5001 ..."   user-mode net
#   NET=tap:IFNAME                                      an existing tap device
#   PCAP=file.pcap                                      capture the NIC's frames
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${GOMENUOS_BUILD:-$root/build}
mode=${1:-run}
goroot=$(go env GOROOT 2>/dev/null || echo /usr/local/go)

need_qemu() {
	command -v qemu-system-x86_64 >/dev/null 2>&1 && return
	echo "run.sh: qemu-system-x86_64 missing; installing qemu-system-x86" >&2
	if [ "$(id -u)" = 0 ]; then
		apt-get update -q && apt-get install -y -q qemu-system-x86
	else
		sudo apt-get update -q && sudo apt-get install -y -q qemu-system-x86
	fi
}

need_image() {
	for f in boot.elf kernel.elf initramfs.cpio; do
		if [ ! -f "$build/$f" ]; then
			echo "run.sh: $build/$f missing; run \`make image\` first" >&2
			exit 2
		fi
	done
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

# net_args prints the NIC arguments NET, HOSTFWD and PCAP ask for.
net_args() {
	nic="-device virtio-net-pci,netdev=n0,romfile="
	case ${NET:-none} in
	none)
		nic=
		;;
	user)
		netdev=user,id=n0
		for f in ${HOSTFWD:-}; do netdev=$netdev,hostfwd=$f; done
		echo "-netdev $netdev"
		;;
	tap:*)
		echo "-netdev tap,id=n0,ifname=${NET#tap:},script=no,downscript=no"
		;;
	*)
		echo "run.sh: NET=$NET: want user or tap:IFNAME" >&2
		exit 2
		;;
	esac
	echo "$nic"
	if [ -n "${PCAP:-}" ]; then
		[ -n "$nic" ] || { echo "run.sh: PCAP needs NET" >&2; exit 2; }
		echo "-object filter-dump,id=dump0,netdev=n0,file=$PCAP"
	fi
}

# Not -nographic: it makes SeaBIOS read keys from the serial port and eat
# input typed (or piped) during boot; see qemu/harness/config.go.
qemu() {
	need_qemu
	need_image
	net_args >/dev/null # fail on a bad NET before QEMU starts
	# shellcheck disable=SC2046,SC2086 # word splitting of the option lists is wanted
	exec qemu-system-x86_64 -accel tcg -m "${QEMU_MEM:-512M}" \
		-display none -vga none -nic none -no-reboot \
		-kernel "$build/boot.elf" -initrd "$build/kernel.elf,$build/initramfs.cpio" \
		-append "${CMDLINE:-}" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		$(console) $(net_args) "$@" ${QEMU_EXTRA:-}
}

case $mode in
run)
	[ -t 0 ] && echo "run.sh: type quit to power off; Ctrl-A x kills QEMU" >&2
	qemu
	;;
debug)
	cat >&2 <<-MSG
	run.sh: QEMU waits for gdb on 127.0.0.1:1234. In another terminal:
	  make gdb    (or: cd $root && gdb -iex 'add-auto-load-safe-path $goroot' -x qemu/gdb/gomenuos.gdb)
	then e.g.: break 'gomenuos/kernel/menu.(*Shell).dispatch'  and  continue
	MSG
	qemu -gdb tcp:127.0.0.1:1234 -S
	;;
gdb)
	# The script loads build/kernel.elf; point it at $build's when that differs
	# (a breakpoint set from another build's symbols lands mid-instruction).
	script=$root/qemu/gdb/gomenuos.gdb
	if [ "$build" != "$root/build" ]; then
		script=$(mktemp)
		sed "s|^file build/kernel.elf|file $build/kernel.elf|" "$root/qemu/gdb/gomenuos.gdb" >"$script"
	fi
	cd "$root"
	exec gdb -q -iex "add-auto-load-safe-path $goroot" -x "$script"
	;;
*)
	echo "usage: $0 run|debug|gdb" >&2
	exit 2
	;;
esac
