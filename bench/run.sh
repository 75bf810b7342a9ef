#!/bin/sh
# Ceso benchmarks, one command: builds the test bed, the C# driver and the govmomi peer, starts ONE simulated ESXi
# host with 1,000 VMs, runs the discovery and SSH benchmarks against it, prints the results, stops the host.
# Options (environment): RUNS (discovery rounds, default 15), SSH_RUNS (persistent-shell runs, default 200),
# FRESH_RUNS (fresh ssh process runs, default 20), VMS (default 1000).
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
export RUNS="${RUNS:-15}" SSH_RUNS="${SSH_RUNS:-200}" FRESH_RUNS="${FRESH_RUNS:-20}"
VMS="${VMS:-1000}"

echo "building (testbed/build.sh, bench/Ceso.Bench, bench/govmomi-discovery)..." >&2
"$ROOT/testbed/build.sh"
dotnet build -c Release --nologo -v quiet "$BENCH/Ceso.Bench/Ceso.Bench.csproj" >/dev/null
(cd "$BENCH/govmomi-discovery" && GOPATH=/usr/share/gocode GO111MODULE=off go build -o bin/govmomi-discovery .)

WORK=$(mktemp -d /tmp/ceso-bench.XXXXXX)
BED_PID=""
cleanup() {
    if [ -n "$BED_PID" ] && kill -0 "$BED_PID" 2>/dev/null; then
        kill -TERM "$BED_PID" 2>/dev/null || true
        wait "$BED_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "starting the test bed with $VMS VMs..." >&2
"$ROOT/testbed/bin/cesobed" serve -vm "$VMS" >"$WORK/bed.json" 2>"$WORK/bed.err" &
BED_PID=$!
i=0
until [ -s "$WORK/bed.json" ]; do
    i=$((i + 1))
    if [ "$i" -gt 1200 ] || ! kill -0 "$BED_PID" 2>/dev/null; then
        echo "the test bed did not start:" >&2; cat "$WORK/bed.err" >&2; exit 1
    fi
    sleep 0.1
done
if grep -q '"error"' "$WORK/bed.json"; then cat "$WORK/bed.json" >&2; exit 1; fi

echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(dotnet --version) SDK, $(go version | cut -d' ' -f3), $(ssh -V 2>&1 | cut -d, -f1)"
dotnet "$BENCH/Ceso.Bench/bin/Release/net10.0/Ceso.Bench.dll" "$WORK/bed.json" "$BENCH/govmomi-discovery/bin/govmomi-discovery"
