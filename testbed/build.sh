#!/bin/sh
# Builds testbed/bin/cesobed (GOPATH mode against Debian's govmomi 0.24.2); Go's build cache makes re-runs fast.
set -e
cd "$(dirname "$0")/cesobed"
mkdir -p ../bin
GOPATH=/usr/share/gocode GO111MODULE=off go build -o ../bin/cesobed .
