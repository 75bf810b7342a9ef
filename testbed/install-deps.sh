#!/bin/sh
# Installs the Debian packages the test bed and the tests need, when any is missing (Debian 12 / Ubuntu, as root).
# Used by .ci/run and by `./build.ps1 -Task Demo|Test`; prints nothing when everything is there.
#   golang-go golang-github-vmware-govmomi-dev  vcsim, the simulated ESXi API (built from Debian's govmomi source)
#   openssh-server openssh-client               the SSH side of the test bed and Ceso's own transport
#   util-linux                                  unshare, for the test bed's /vmfs/volumes mount namespace
#   qemu-utils                                  qemu-img checks every VMDK the test bed and Ceso write
#   cloud-init                                  the real consumer of Ceso's guestinfo (contract tests)
#   gcc libc6-dev                               esxtool and cesolock.so (the disk locks of running VMs over SSH)
set -eu
pkgs="golang-go golang-github-vmware-govmomi-dev openssh-server openssh-client util-linux qemu-utils cloud-init gcc libc6-dev"
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
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
