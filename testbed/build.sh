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
else
  (cd esxtool && GO111MODULE=off go build -trimpath -ldflags=-s -o ../bin/esxtool .)
fi
