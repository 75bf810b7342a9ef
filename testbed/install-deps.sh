#!/bin/sh
# Installs the Debian packages the test bed and the tests need, when any is missing (Debian 12 / Ubuntu, as root).
# Used by .ci/run and by `./build.ps1 -Task Demo|Test`; prints nothing when everything is there.
#   golang-go golang-github-vmware-govmomi-dev  vcsim, the simulated ESXi API (built from Debian's govmomi source)
#   openssh-server openssh-client               the SSH side of the test bed and Ceso's own transport
#   util-linux                                  unshare, for the test bed's /vmfs/volumes mount namespace
#   qemu-utils                                  qemu-img checks every VMDK the test bed and Ceso write
#   cloud-init                                  the real consumer of Ceso's guestinfo (contract tests)
#   e2fsprogs dpkg                              the simulated guests' disks: mkfs.ext4 -d builds them (guest/make-image.sh
#                                               from apt-get download'ed .debs), debugfs rdump boots them (cesobed/guest.go)
#   gcc libc6-dev                               esxtool and cesolock.so (the disk locks of running VMs over SSH)
#   swift-proxy swift-object swift-container     OpenStack Swift with s3api: the real S3-compatible server of the S3
#   swift-account memcached curl                 backend's tests (testbed/swift-s3/start.sh runs private instances)
#   gnome-keyring libsecret-tools dbus-daemon    the Secret Service credential store's tests (a private keyring on a
#                                                private D-Bus session; secret-tool is what Ceso runs)
set -eu
pkgs="golang-go golang-github-vmware-govmomi-dev openssh-server openssh-client util-linux qemu-utils cloud-init e2fsprogs dpkg gcc libc6-dev swift-proxy swift-object swift-container swift-account memcached curl gnome-keyring libsecret-tools dbus-daemon"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "The test bed needs these Debian packages:$missing. Install them as root (sudo $0) and run again." >&2
  exit 1
fi
echo "Installing Debian packages:$missing"
apt-get update -qq
# The Swift and memcached packages start and enable system services (memcached on :11211, swift-* that fail without
# rings); the tests run their own private instances. A policy-rc.d that answers 101 keeps the maintainer scripts from
# starting anything during the install (an existing one, e.g. a container's, is left as it is).
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=true
fi
trap 'if $own_policy; then rm -f "$policy"; fi' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
# ... and with systemd running, the services of the packages just installed are disabled (and stopped, should one run).
services=""
for p in $missing; do
  case $p in swift-*|memcached) services="$services $p" ;; esac
done
if [ -n "$services" ] && [ -d /run/systemd/system ]; then
  units=$(dpkg -L $services 2>/dev/null |
    sed -n 's|^/lib/systemd/system/\([^@/]*\.service\)$|\1|p')
  [ -n "$units" ] && systemctl disable --now $units >/dev/null 2>&1 || true
fi
