#!/bin/sh
# scripts/deps.sh: install the host tools that the build, the tests and the
# README's commands use, in one apt-get run, on a Debian machine. Tools
# already present are not installed again, so every set-up target (make run,
# make test, make debug, ...) and .ci/run can call it.
#
#   tool                 Debian package     used by
#   qemu-system-x86_64   qemu-system-x86    make run, debug, test
#   gcc, ld              gcc, binutils      the 32-bit boot stub
#   musl-gcc             musl-tools         user/'s static C programs
#   $BUSYBOX             busybox-static     the root file system's tools
#   gdb                  gdb                make gdb, make lab, gdb tests
#   nc (OpenBSD, -N)     netcat-openbsd     the README's host side of replyhi
#   ping                 iputils-ping       the README, the interop ping test
#   ip                   iproute2           make run-tap, namespace tests
#   tcpdump              tcpdump            reading a PCAP= capture
#   rsvg-convert         librsvg2-bin       the trace pictures' rendering test
set -eu

need=""
want() { # want COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || need="$need $2"
}
want qemu-system-x86_64 qemu-system-x86
want gcc gcc
want ld binutils
want gdb gdb
want ping iputils-ping
want ip iproute2
want tcpdump tcpdump
want musl-gcc musl-tools
want rsvg-convert librsvg2-bin
[ -x "${BUSYBOX:-/bin/busybox}" ] || need="$need busybox-static"
# Only OpenBSD's netcat has -N (close the connection at end of input);
# Debian's traditional netcat also installs as nc.
if ! nc -h 2>&1 | grep -q -- '-N'; then
	need="$need netcat-openbsd"
fi

[ -n "$need" ] || exit 0
echo "deps.sh: installing${need}" >&2
sudo=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps.sh: not root and no sudo; as root run: apt-get install -y${need}" >&2
		exit 1
	}
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # $need is a list of package names
$sudo apt-get update -q -o DPkg::Lock::Timeout=300 && $sudo apt-get install -y -q -o DPkg::Lock::Timeout=300 $need
