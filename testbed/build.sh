#!/bin/sh
# Builds testbed/bin/cesobed (GOPATH mode against Debian's govmomi 0.24.2) and testbed/bin/esxtool, the fast
# vim-cmd/vmkfstools/esxcli client of serve: in C (libc only) when a C compiler is there, else the same client in Go
# (stdlib only; ~0.7 ms slower per call). Go's build cache makes re-runs fast.
set -e
cd "$(dirname "$0")"
mkdir -p bin
(cd cesobed && GOPATH=/usr/share/gocode GO111MODULE=off go build -o ../bin/cesobed .)
CC=${CC:-cc}
if command -v "$CC" >/dev/null 2>&1; then
  if [ ! -x bin/esxtool ] || [ esxtool/c/esxtool.c -nt bin/esxtool ] || [ build.sh -nt bin/esxtool ]; then
    # static when libc.a is there (saves the dynamic loader, ~0.2 ms a call)
    "$CC" -O2 -Wall -static -o bin/esxtool.tmp esxtool/c/esxtool.c 2>/dev/null ||
      "$CC" -O2 -Wall -o bin/esxtool.tmp esxtool/c/esxtool.c
    mv bin/esxtool.tmp bin/esxtool
  fi
  # the disk locks of running VMs, preloaded into every SSH session's programs (cesolock/cesolock.c)
  if [ ! -f bin/cesolock.so ] || [ cesolock/cesolock.c -nt bin/cesolock.so ] || [ build.sh -nt bin/cesolock.so ]; then
    "$CC" -O2 -Wall -shared -fPIC -o bin/cesolock.so.tmp cesolock/cesolock.c -ldl
    mv bin/cesolock.so.tmp bin/cesolock.so
  fi
else
  (cd esxtool && GO111MODULE=off go build -trimpath -ldflags=-s -o ../bin/esxtool .)
  echo "build.sh: no C compiler: bin/cesolock.so (the disk locks of running VMs over SSH) cannot be built; apt-get install gcc libc6-dev" >&2
  exit 1
fi
