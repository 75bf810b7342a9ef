#!/bin/sh
# Builds the test bed's guest disk images: ext4 filesystems (mkfs.ext4 -d, e2fsprogs) holding the files of Debian's
# real cloud-init and open-vm-tools packages (apt-get download + dpkg-deb -x, with their dpkg status entries), and
# busybox-static as the guest's /bin/sh and tools. The simulated guest (cesobed/guest.go) boots such a disk.
#   make-image.sh [VARIANT...]   VARIANT: good | no-cloud-init | ds-disabled | no-tools (default: all four)
# Prints one line per variant: "VARIANT PATH". Images are cached under $CESO_GUEST_CACHE (default
# /var/tmp/ceso-guest), keyed by this script and the .deb files; a re-run with nothing changed only prints the paths.
# Needs: apt-get (a Debian mirror), dpkg-deb, mkfs.ext4 -d (e2fsprogs >= 1.43). Writes nothing outside the cache.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${CESO_GUEST_CACHE:-/var/tmp/ceso-guest}
size_mb=${CESO_GUEST_SIZE_MB:-1024} # the size of the test bed's initial VMs' disks (a template is a copy of vm01)
[ $# -gt 0 ] || set -- good no-cloud-init ds-disabled no-tools
mkdir -p "$cache/debs"

# The packages: fetched once (apt-get download needs no root; `apt-get update` may be needed on a fresh machine).
for p in cloud-init open-vm-tools busybox-static; do
  if ! ls "$cache/debs/${p}_"*.deb >/dev/null 2>&1; then
    (cd "$cache/debs" && apt-get download "$p" >/dev/null 2>&1) || {
      (cd "$cache/debs" && apt-get update -qq >/dev/null 2>&1 && apt-get download "$p" >/dev/null) || {
        echo "make-image.sh: apt-get download $p failed (is a Debian mirror reachable?)" >&2; exit 1; }
    }
  fi
done
key=$( (cat "$0"; ls -l "$cache/debs") | sha256sum | cut -c1-16)

# status_entry DEB: the package's dpkg status paragraph, as dpkg writes it after an install (control fields with
# Status after Package).
status_entry() {
  dpkg-deb -f "$1" | awk '{print} /^Package:/{print "Status: install ok installed"}'
  echo
}

build() {
  variant=$1 out="$cache/$variant-$key.img"
  if [ -f "$out" ]; then echo "$variant $out"; return; fi
  root=$(mktemp -d "$cache/root.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/var/lib/dpkg" "$root/etc" "$root/root" "$root/run" "$root/tmp" "$root/dev" "$root/proc" "$root/home/debian"
  : >"$root/var/lib/dpkg/status"
  pkgs="busybox-static"
  case $variant in
    good|ds-disabled) pkgs="$pkgs cloud-init open-vm-tools" ;;
    no-cloud-init) pkgs="$pkgs open-vm-tools" ;;
    no-tools) pkgs="$pkgs cloud-init" ;;
    *) echo "make-image.sh: unknown variant '$variant' (good, no-cloud-init, ds-disabled, no-tools)" >&2; exit 2 ;;
  esac
  for p in $pkgs; do
    deb=$(ls "$cache/debs/${p}_"*.deb | head -1)
    dpkg-deb -x "$deb" "$root"
    status_entry "$deb" >>"$root/var/lib/dpkg/status"
    dpkg-deb -c "$deb" | awk '{print substr($6, 2)}' | sed 's|/$||; /^$/d' >"$root/var/lib/dpkg/info.$p.list"
    mkdir -p "$root/var/lib/dpkg/info" && mv "$root/var/lib/dpkg/info.$p.list" "$root/var/lib/dpkg/info/$p.list"
  done
  # busybox as the guest's shell and tools (what Debian's busybox package does with `busybox --install`), except the
  # applets that would stop a machine: the simulated guest supplies its own poweroff (SPEC.md "Simulated guests").
  mkdir -p "$root/usr/sbin" "$root/sbin"
  for a in $("$root/bin/busybox" --list); do
    case $a in poweroff|reboot|halt|init|linuxrc|busybox) continue ;; esac
    [ -e "$root/bin/$a" ] || [ -e "$root/usr/bin/$a" ] || ln -s busybox "$root/bin/$a"
  done
  # a Debian install: hostname, root's home, the default user debian (cloud-init's default user on Debian)
  echo "golden" >"$root/etc/hostname"
  printf 'root:x:0:0:root:/root:/bin/sh\ndebian:x:1000:1000:Debian:/home/debian:/bin/sh\n' >"$root/etc/passwd"
  printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' >"$root/etc/os-release"
  if [ "$variant" = ds-disabled ]; then
    # what an image build that targets another cloud leaves behind: a datasource_list without VMware
    mkdir -p "$root/etc/cloud/cloud.cfg.d"
    printf '# written by the image build for the OpenStack target\ndatasource_list: [ NoCloud, ConfigDrive, OpenStack, None ]\n' \
      >"$root/etc/cloud/cloud.cfg.d/95-datasources.cfg"
  fi
  echo "$variant" >"$root/etc/ceso-testbed-variant"
  tmp="$out.tmp.$$"
  rm -f "$tmp"
  truncate -s "${size_mb}M" "$tmp"
  mkfs.ext4 -q -F -L cesoroot -d "$root" "$tmp"
  mv "$tmp" "$out"
  rm -rf "$root"
  trap - EXIT
  echo "$variant $out"
}

for v in "$@"; do build "$v"; done
