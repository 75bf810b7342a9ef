#!/bin/sh
# Ceso benchmarks, one command: builds the test bed, the C# driver and the govmomi peer, starts ONE simulated ESXi
# host with 1,000 VMs, runs the discovery and SSH benchmarks against it and stops it; then starts a small test bed
# (4 VMs) for the lifecycle benchmark (engine overhead of New-CesoVm / Copy-CesoVm), prints the results, stops it.
# Options (environment): BENCH (all, or a comma-separated list of discovery, ssh, lifecycle; default all),
# RUNS (discovery rounds, default 15), SSH_RUNS (persistent-shell runs, default 200), FRESH_RUNS (fresh ssh process
# runs, default 20), VMS (default 1000), LIFECYCLE_RUNS (runs per transport and operation, default 20),
# LIFECYCLE_VMS (VMs of the lifecycle test bed, default 4). BENCH=reads (not part of all: ~5 min) runs SSH discovery
# and one New-CesoVm before/after the batched reads with delayMs=READS_DELAY_MS (150) on beds of READS_VMS ("4 50")
# VMs, READS_RUNS (3) rounds each. BENCH=backup (not part of all: ~10 min) backs up a 4 GiB disk image (v1, then v2)
# with Ceso, restic and borg on a 2-VM test bed and restores it (RUNS rounds, default 3; PLAIN=1: the host has no
# python, so Ceso reads a plain stream; images from BENCH_IMAGES, default /var/tmp/ceso-bench). BENCH=backends (not
# part of all: ~12 min) backs up the same image v1, then v2, and restores v2 with Ceso and restic into each repository
# backend: a local directory, SFTP to the test bed's sshd and datastore, S3 on Swift (testbed/swift-s3, started and
# stopped here); RUNS rounds (default 3), BACKENDS a subset (directory,sftp,s3).
set -eu
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
BACKUP_RUNS="${RUNS:-3}"
ROOT=$(dirname "$BENCH_DIR")
export RUNS="${RUNS:-15}" SSH_RUNS="${SSH_RUNS:-200}" FRESH_RUNS="${FRESH_RUNS:-20}" LIFECYCLE_RUNS="${LIFECYCLE_RUNS:-20}"
VMS="${VMS:-1000}"
LIFECYCLE_VMS="${LIFECYCLE_VMS:-4}"

# Which benchmarks run on the big test bed (MAIN) and whether the lifecycle one runs on its small bed (LIFE).
MAIN="" LIFE="" READS="" BACKUP="" BACKENDS_BENCH=""
for b in $(echo "${BENCH:-all}" | tr ',' ' '); do
    case "$b" in
        all) MAIN="discovery,ssh" LIFE=1 ;;
        discovery|ssh) MAIN="${MAIN:+$MAIN,}$b" ;;
        lifecycle) LIFE=1 ;;
        reads) READS=1 ;;
        backup) BACKUP=1 ;;
        backends) BACKENDS_BENCH=1 ;;
        *) echo "BENCH=$b: use all, or a comma-separated list of discovery, ssh, lifecycle, reads, backup, backends" >&2; exit 2 ;;
    esac
done

echo "building (testbed/build.sh, bench/Ceso.Bench, bench/govmomi-discovery)..." >&2
"$ROOT/testbed/build.sh"
dotnet build -c Release --nologo -v quiet "$BENCH_DIR/Ceso.Bench/Ceso.Bench.csproj" >/dev/null
(cd "$BENCH_DIR/govmomi-discovery" && GOPATH=/usr/share/gocode GO111MODULE=off go build -o bin/govmomi-discovery .)
DRIVER="$BENCH_DIR/Ceso.Bench/bin/Release/net10.0/Ceso.Bench.dll"

WORK=$(mktemp -d /tmp/ceso-bench.XXXXXX)
BED_PID=""
SWIFT_STATE=""
stop_bed() {
    if [ -n "$BED_PID" ] && kill -0 "$BED_PID" 2>/dev/null; then
        kill -TERM "$BED_PID" 2>/dev/null || true
        wait "$BED_PID" 2>/dev/null || true
    fi
    BED_PID=""
}
cleanup() {
    stop_bed
    if [ -n "$SWIFT_STATE" ]; then "$ROOT/testbed/swift-s3/stop.sh" "$SWIFT_STATE" >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_bed VMS NAME: starts a test bed with VMS VMs, its JSON start line in $WORK/NAME.json
start_bed() {
    echo "starting the test bed with $1 VMs..." >&2
    "$ROOT/testbed/bin/cesobed" serve -vm "$1" >"$WORK/$2.json" 2>"$WORK/$2.err" &
    BED_PID=$!
    i=0
    until [ -s "$WORK/$2.json" ]; do
        i=$((i + 1))
        if [ "$i" -gt 1200 ] || ! kill -0 "$BED_PID" 2>/dev/null; then
            echo "the test bed did not start:" >&2; cat "$WORK/$2.err" >&2; exit 1
        fi
        sleep 0.1
    done
    if grep -q '"error"' "$WORK/$2.json"; then cat "$WORK/$2.json" >&2; exit 1; fi
}

if [ -n "$BACKUP$BACKENDS_BENCH" ]; then
    IMAGES="${BENCH_IMAGES:-/var/tmp/ceso-bench}"
    [ -f "$IMAGES/disk-v1.img" ] && [ -f "$IMAGES/disk-v2.img" ] || { echo "no $IMAGES/disk-v1.img and disk-v2.img: run /work/shared/bench/make-disk-image.sh $IMAGES" >&2; exit 1; }
    for p in restic:restic borg:borgbackup pv:pv; do
        command -v "${p%%:*}" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${p#*:}" >/dev/null; }
    done
fi

echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(dotnet --version) SDK, $(go version | cut -d' ' -f3), $(ssh -V 2>&1 | cut -d, -f1)"
if [ -n "$MAIN" ]; then
    start_bed "$VMS" bed
    BENCH="$MAIN" dotnet "$DRIVER" "$WORK/bed.json" "$BENCH_DIR/govmomi-discovery/bin/govmomi-discovery"
    stop_bed
fi
if [ -n "$LIFE" ]; then
    # Its own small test bed (one at a time: the big one is stopped first, so it adds no load).
    start_bed "$LIFECYCLE_VMS" lifecycle-bed
    BENCH=lifecycle dotnet "$DRIVER" "$WORK/lifecycle-bed.json"
    stop_bed
fi
if [ -n "$READS" ]; then
    for n in ${READS_VMS:-4 50}; do
        start_bed "$n" reads-bed-$n
        CESOBED="$ROOT/testbed/bin/cesobed" BENCH=reads dotnet "$DRIVER" "$WORK/reads-bed-$n.json"
        stop_bed
    done
fi
if [ -n "$BACKUP" ]; then
    echo "== restic $(restic version | cut -d' ' -f2), $(borg --version), PLAIN=${PLAIN:-0}"
    start_bed 2 backup-bed
    CESOBED="$ROOT/testbed/bin/cesobed" BENCH_IMAGES="$IMAGES" BACKUP_RUNS="$BACKUP_RUNS" BENCH_WORK="$WORK" PLAIN="${PLAIN:-0}" \
        BENCH=backup dotnet "$DRIVER" "$WORK/backup-bed.json"
    stop_bed
fi
if [ -n "$BACKENDS_BENCH" ]; then
    echo "== restic $(restic version | cut -d' ' -f2), swift $(dpkg-query -W -f='${Version}' swift 2>/dev/null)"
    echo "starting Swift (testbed/swift-s3/start.sh)..." >&2
    SWIFT_STATE="$WORK/swift"
    "$ROOT/testbed/swift-s3/start.sh" "$SWIFT_STATE" >"$WORK/swift.json"
    start_bed 2 backends-bed
    BENCH_IMAGES="$IMAGES" BACKUP_RUNS="$BACKUP_RUNS" BENCH_WORK="$WORK" SWIFT_JSON="$WORK/swift.json" \
        BENCH=backends dotnet "$DRIVER" "$WORK/backends-bed.json"
    stop_bed
    "$ROOT/testbed/swift-s3/stop.sh" "$SWIFT_STATE" >/dev/null
    SWIFT_STATE=""
fi
