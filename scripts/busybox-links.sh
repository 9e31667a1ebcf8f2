#!/bin/sh
# busybox-links.sh BUSYBOX ROOT: copy the static busybox into ROOT/bin and
# make a link for each applet it lists (busybox --list-full), as
# `busybox --install -s` would, skipping names our own programs use.
set -eu
bb=$1
root=$2
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/tmp"
cp "$bb" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
"$bb" --list-full | while read -r path; do
	dest="$root/$path"
	[ -e "$dest" ] && [ ! -L "$dest" ] && continue # one of ours
	case $path in
	bin/*) ln -sf busybox "$dest" ;;
	*) ln -sf /bin/busybox "$dest" ;;
	esac
done
