#!/bin/bash
# Prepare everything needed to boot the Debian 6.1 kernel under QEMU (TCG):
# host packages, the kernel .deb, unpacked modules + modules.dep, an uncompressed
# vmlinux and a busybox initramfs containing the host's iproute2 and the guest scripts.
# All large artefacts live in $IFSIM_QEMU_CACHE (default ~/.cache/ifsim/qemu); nothing is
# written into the repository.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${IFSIM_QEMU_CACHE:-$HOME/.cache/ifsim/qemu}"
mkdir -p "$CACHE/debs"
log() { printf '[prepare] %s\n' "$*" >&2; }

# ---- 1. host packages ---------------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || need+=(busybox-static)
command -v depmod >/dev/null || need+=(kmod)
command -v xz >/dev/null || need+=(xz-utils)
command -v cpio >/dev/null || need+=(cpio)
command -v file >/dev/null || need+=(file)
[ -x /usr/sbin/ip ] || need+=(iproute2)
command -v node >/dev/null || { log "node (>=18) is required for run.mjs"; exit 1; }
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  [ "$(id -u)" = 0 ] || { log "need root to install ${need[*]}"; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
# re-check busybox (busybox-static replaces the dynamic one)
file -L /bin/busybox | grep -q 'statically linked' || { log "/bin/busybox is not static"; exit 1; }

# ---- 2. kernel package ------------------------------------------------------------------
cd "$CACHE/debs"
if ! ls linux-image-amd64_*.deb >/dev/null 2>&1; then
  log "apt-get download linux-image-amd64"
  apt-get download linux-image-amd64 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true
fi
META="$(ls -1 linux-image-amd64_*.deb | sort -V | tail -1)"
REALPKG="$(dpkg-deb -f "$META" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*-amd64\).*/\1/p' | head -1)"
[ -n "$REALPKG" ] || { log "cannot find the real kernel package in $META"; exit 1; }
KVER="${REALPKG#linux-image-}"
if ! ls "${REALPKG}"_*.deb >/dev/null 2>&1; then
  log "apt-get download $REALPKG"
  apt-get download "$REALPKG" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true
fi
DEB="$(ls -1 "${REALPKG}"_*.deb | sort -V | tail -1)"
PKGVER="$(dpkg-deb -f "$DEB" Version)"
log "kernel package $REALPKG $PKGVER (uname -r $KVER)"

ROOT="$CACHE/root-$KVER"
if [ ! -f "$ROOT/.unpacked" ]; then
  rm -rf "$ROOT"; mkdir -p "$ROOT"
  log "dpkg-deb -x $DEB"
  dpkg-deb -x "$DEB" "$ROOT"
  touch "$ROOT/.unpacked"
fi
MODDIR="$ROOT/lib/modules/$KVER"
if [ ! -f "$MODDIR/modules.dep" ]; then
  log "depmod -b $ROOT $KVER"
  depmod -b "$ROOT" "$KVER"
fi

# ---- 3. uncompressed vmlinux (ELF with PVH note) ------------------------------------------
VMLINUZ="$ROOT/boot/vmlinuz-$KVER"
VMLINUX="$CACHE/vmlinux-$KVER"
if [ ! -s "$VMLINUX" ]; then
  log "extracting vmlinux from $VMLINUZ"
  try_stream() { # offset decompressor
    tail -c +"$(( $1 + 1 ))" "$VMLINUZ" | $2 2>/dev/null > "$VMLINUX.tmp" || true
    [ "$(head -c 4 "$VMLINUX.tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]
  }
  ok=
  for off in $(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$VMLINUZ" | cut -d: -f1); do
    if try_stream "$off" 'xz -dc'; then ok=xz; break; fi
  done
  if [ -z "$ok" ]; then
    for off in $(LC_ALL=C grep -obUaP '\x1f\x8b\x08' "$VMLINUZ" | cut -d: -f1); do
      if try_stream "$off" 'gzip -dc'; then ok=gzip; break; fi
    done
  fi
  [ -n "$ok" ] || { rm -f "$VMLINUX.tmp"; log "no xz/gzip stream yields an ELF"; exit 1; }
  mv "$VMLINUX.tmp" "$VMLINUX"
  log "vmlinux: $(file -b "$VMLINUX" | cut -c1-80) ($ok)"
fi

# ---- 4. initramfs ------------------------------------------------------------------------
IRD="$CACHE/initramfs-$KVER"
rm -rf "$IRD"; mkdir -p "$IRD"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,lib/modules/ifsim,lib64,root}
cp /bin/busybox "$IRD/bin/busybox"
for a in $("$IRD/bin/busybox" --list); do
  [ "$a" = busybox ] || ln -sf busybox "$IRD/bin/$a"
done
# iproute2 from the host, with its libraries
cp /usr/sbin/ip "$IRD/usr/sbin/ip"
ldd /usr/sbin/ip | awk '/=>/ {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
  [ -f "$lib" ] || continue
  mkdir -p "$IRD$(dirname "$lib")"
  cp -L "$lib" "$IRD$lib"
done
[ -d /etc/iproute2 ] && cp -a /etc/iproute2 "$IRD/etc/"
# kernel modules, with their dependencies, in load order
: > "$IRD/lib/modules/ifsim/order"
WANT="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net e1000e"
seen=" "
for m in $WANT; do
  # --show-depends prints "insmod /path" for the module and its deps, deps first ("builtin X" if built in)
  while read -r kind path _; do
    [ "$kind" = insmod ] || continue
    b="$(basename "$path")"
    case "$seen" in *" $b "*) continue;; esac
    seen="$seen$b "
    case "$path" in
      *.ko) cp "$path" "$IRD/lib/modules/ifsim/$b" ;;
      *.ko.xz) xz -dc "$path" > "$IRD/lib/modules/ifsim/${b%.xz}"; b="${b%.xz}" ;;
      *.ko.zst) zstd -dc "$path" > "$IRD/lib/modules/ifsim/${b%.zst}"; b="${b%.zst}" ;;
    esac
    echo "$b" >> "$IRD/lib/modules/ifsim/order"
  done < <(modprobe -d "$ROOT" -S "$KVER" --show-depends "$m" 2>/dev/null || echo "builtin $m")
done
log "modules: $(tr '\n' ' ' < "$IRD/lib/modules/ifsim/order")"
# guest scripts
cp "$HERE/guest/init" "$IRD/init"
cp "$HERE/guest/lib.sh" "$HERE/guest/steps.sh" "$IRD/root/"
chmod +x "$IRD/init"
INITRD="$CACHE/initramfs-$KVER.cpio.gz"
(cd "$IRD" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet | gzip -1 > "$INITRD")

cat > "$CACHE/env" <<ENV
KVER=$KVER
PKGVER=$PKGVER
KPKG=$REALPKG
VMLINUX=$VMLINUX
INITRD=$INITRD
IPVER=$(/usr/sbin/ip -V | head -1)
QEMUVER=$(qemu-system-x86_64 --version | head -1)
ENV
log "ready: $CACHE/env"
cat "$CACHE/env"
