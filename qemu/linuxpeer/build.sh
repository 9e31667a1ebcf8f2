#!/bin/bash
# qemu/linuxpeer/build.sh BUILD: make the Linux peer that benchmarks run
# next to gomenuos — Debian's Linux 6.1 cloud kernel with an initramfs of
# busybox-static and our own static programs (BUILD/rootfs/bin, the same
# binaries gomenuos runs), so both kernels run identical programs under
# the same QEMU. Output: BUILD/linux/{vmlinuz,initramfs.cpio.gz}.
# Installs what it needs from Debian (run as root).
set -euo pipefail
B=${1:?usage: build.sh BUILD}
here=$(cd "$(dirname "$0")" && pwd)
need=()
ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1 || need+=(linux-image-cloud-amd64)
command -v cpio >/dev/null || need+=(cpio)
[ -x /bin/busybox ] || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
kver=$(ls /boot/vmlinuz-*-cloud-amd64 | sed 's#.*/vmlinuz-##' | sort -V | tail -1)
out=$B/linux
root=$out/rootfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,lib/modules}
cp /bin/busybox "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
done
for f in "$B"/rootfs/bin/*; do
	[ -L "$f" ] || cp "$f" "$root/bin/"
done
mods=/lib/modules/$kver/kernel
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev \
	drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci net/core/failover \
	drivers/net/net_failover drivers/net/virtio_net; do
	cp "$mods/$m.ko" "$root/lib/modules/" 2>/dev/null || true
done
install -m 0755 "$here/init" "$root/init"
mknod -m 600 "$root/dev/console" c 5 1
echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"
(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --quiet --reproducible) | gzip -1n > "$out/initramfs.cpio.gz"
ln -sf "/boot/vmlinuz-$kver" "$out/vmlinuz"
echo "linuxpeer: $out/vmlinuz ($kver), $out/initramfs.cpio.gz"
