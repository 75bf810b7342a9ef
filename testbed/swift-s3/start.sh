#!/bin/bash
# start.sh STATE_DIR -- single-node OpenStack Swift (Debian 12 packages) with the
# s3api + tempauth middlewares, on 127.0.0.1 only. Waits until an S3 bucket can be
# created, then prints ONE JSON line. Stop with: stop.sh STATE_DIR
set -euo pipefail
STATE=$(realpath -m "${1:?usage: start.sh STATE_DIR}")
ETC=$STATE/etc RUN=$STATE/run LOG=$STATE/log
T0=$(date +%s%N)
mkdir -p "$ETC" "$RUN" "$LOG" "$STATE/srv/d1"   # srv/d1 = the only "disk": a plain directory
# alive PIDFILE: that pid is a live process whose command line names this state dir
# (a zombie, whose cmdline is empty, or a recycled pid does not count; as in stop.sh).
alive() { local c; c=$(tr '\0' ' ' 2>/dev/null <"/proc/$(cat "$1")/cmdline") && [[ $c == *"$STATE/"* ]]; }
fail() { echo "start.sh: $*; logs: $LOG" >&2; "$(dirname "$0")/stop.sh" "$STATE"; exit 1; }
# The last lines of every log, for a failure's message (the caller deletes the state dir, logs and all).
logtail() { local f; for f in "$LOG"/*.log; do [ -s "$f" ] && printf '\n--- %s:\n%s' "$(basename "$f")" "$(tail -n 8 "$f")"; done; true; }
for f in "$RUN"/*.pid; do   # refuse to start twice on one state dir
  [ -e "$f" ] && alive "$f" && { echo "already running: $f" >&2; exit 1; }
done

# One python run (each python start costs ~0.7 s here) does two things:
# 1. picks free 127.0.0.1 ports for proxy, account, container, object, memcached BELOW the kernel's ephemeral range.
#    A port from bind(0) is in that range, and once python closes it any outgoing connection or other bind(0) of the
#    test run may take it before the server binds; Swift then retries the bind for bind_timeout seconds and the
#    start looked like a hang (seen twice in CI as "no S3 bucket PUT+DELETE within 30 s"). Below the range only
#    another explicit bind can collide, and bind_timeout = 5 makes that a quick "died", which the caller retries.
# 2. builds the rings (they contain the ports, so they are rebuilt on every start):
#    2^8 partitions, 1 replica, one device "d1". Same part power + the hash in
#    /etc/swift/swift.conf => data under srv/ stays valid across restarts.
read -r P_PROXY P_ACC P_CON P_OBJ P_MC < <(/usr/bin/python3 - "$ETC" <<'EOF'
import socket, sys
from swift.common.ring import RingBuilder
import random
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
ss = []
while len(ss) < 5:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", random.randrange(10000, max(10001, low))))
        ss.append(s)
    except OSError:
        s.close()
ports = [s.getsockname()[1] for s in ss]
for s in ss: s.close()   # before printing: bash reads the ports while python still exits
for name, port in zip(("account", "container", "object"), ports[1:4]):
    b = RingBuilder(8, 1, 1)
    b.add_dev(dict(id=0, region=1, zone=1, ip="127.0.0.1", port=port, device="d1", weight=100))
    b.rebalance()
    b.get_ring().save(f"{sys.argv[1]}/{name}.ring.gz")
print(*ports)
EOF
)

# Shared [DEFAULT]. workers = 0: each server is ONE process (no fork) -> one pid each.
# mount_check = false: d1 is not a mount point. user = root: we run as root, no chown.
# swift.conf (hash prefix/suffix, storage policy 0) is still read from /etc/swift/swift.conf:
# Swift servers hard-code that path; the Debian package ships a usable one.
common() { cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = root
swift_dir = $ETC
devices = $STATE/srv
mount_check = false
# a port taken after all fails in 5 s (the server dies, start.sh says so) instead of 30 s of silent retries
bind_timeout = 5
recon_cache_path = $RUN
# every Swift logger writes here (see the listener below)
log_address = $RUN/log.sock
EOF
}
for s in account:$P_ACC container:$P_CON object:$P_OBJ; do
  { common "${s#*:}"; printf '[pipeline:main]\npipeline = %s-server\n[app:%s-server]\nuse = egg:swift#%s\n' \
      "${s%:*}" "${s%:*}" "${s%:*}"; } >"$ETC/${s%:*}-server.conf"
done
{ common "$P_PROXY"; cat <<EOF
[pipeline:main]
# s3api must sit left of tempauth; s3api needs slo for multipart uploads, copy for CopyObject.
# container_quotas (right of tempauth, left of slo): a container's X-Container-Meta-Quota-Bytes makes an upload
# that would exceed it fail with 413, which s3api answers as EntityTooLarge (the S3 backend's "target full" test).
# No proxy-logging (the per-request access log): it ignores log_address and would log
# via UDP from a socket bound to 0.0.0.0. Backend servers still log each sub-request.
pipeline = catch_errors gatekeeper healthcheck cache listing_formats s3api tempauth copy container_quotas slo dlo versioned_writes proxy-server
[app:proxy-server]
use = egg:swift#proxy
# tempauth accounts (AUTH_test) are created on first write
account_autocreate = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
# S3 access key = "account:user" = test:tester, S3 secret = testing
user_test_tester = testing .admin
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$P_MC
EOF
for f in catch_errors gatekeeper healthcheck listing_formats copy container_quotas slo dlo versioned_writes; do
  printf '[filter:%s]\nuse = egg:swift#%s\n' "$f" "$f"
done
} >"$ETC/proxy-server.conf"

# tempauth demands a memcache client (it works without a server, but then logs
# "ECONNREFUSED"/"error-limited" on every request), so run a private memcached.
# argv[0] carries the state dir so that stop.sh can recognise this memcached by its pid;
# -U 0: no UDP; -u root: memcached refuses to run as root without it.
(exec -a "memcached:$STATE/" memcached -l 127.0.0.1 -p "$P_MC" -U 0 -m 16 -u root) \
  </dev/null >>"$LOG/memcached.log" 2>&1 &
echo $! >"$RUN/memcached.pid"
# Swift always logs to syslog; without a socket at log_address it falls back to UDP
# localhost:514 through a socket bound to 0.0.0.0. So give it a private syslog socket:
# this listener appends every message to $LOG/swift.log (a socket path has <= 107 bytes).
rm -f "$RUN/log.sock"
/usr/bin/python3 -c 'import re, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True: f.write(re.sub(rb"^<\d+>", b"", s.recv(65536)).rstrip(b"\0\n") + b"\n")
' "$RUN/log.sock" "$LOG/swift.log" </dev/null >>"$LOG/syslog.err" 2>&1 &
echo $! >"$RUN/syslog.pid"
for _ in $(seq 50); do [ -S "$RUN/log.sock" ] && break; sleep 0.1; done
[ -S "$RUN/log.sock" ] || fail "no syslog socket"
# Swift servers call setsid() themselves: a signal to the caller's process group (Ctrl-C,
# CI timeout) does not reach them, so always run stop.sh. $LOG/<server>.log only gets what
# a server prints before its logger is up; everything after that is in $LOG/swift.log.
for s in account container object proxy; do
  "swift-$s-server" "$ETC/$s-server.conf" </dev/null >>"$LOG/$s.log" 2>&1 &
  echo $! >"$RUN/$s.pid"
done

# Ready = an S3 (SigV4) bucket PUT + DELETE succeeds through s3api + tempauth.
# curl's --aws-sigv4 reads the key from the URL, so the ':' of "test:tester" is sent as
# %3A; s3api demands x-amz-content-sha256 (curl 7.88 doesn't add it): sha256("").
EP=http://127.0.0.1:$P_PROXY
s3() { curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 aws:amz:us-east-1:s3 -X "$1" \
         -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
         "http://test%3Atester:testing@127.0.0.1:$P_PROXY/$2"; }
OK=false LAST=none
# Up to READY_S (default 90) seconds by the clock: unloaded it takes 5-7 s, but a CI machine's 2 cores busy with the
# rest of the suite have been seen to need more than 30 s for the four python servers to import and listen.
DEADLINE=$(( SECONDS + ${READY_S:-90} ))
while (( SECONDS < DEADLINE )); do
  # 409 = left over from an interrupted earlier start on this state dir
  LAST=$(s3 PUT s3bed-probe || true)
  if [[ $LAST =~ ^(200|409)$ ]] && [ "$(s3 DELETE s3bed-probe)" = 204 ]; then OK=true; break; fi
  # our own children: bash reaps them, so kill -0 fails as soon as one has died
  for f in "$RUN"/*.pid; do kill -0 "$(cat "$f")" 2>/dev/null || fail "$(basename "$f" .pid) died$(logtail)"; done
  sleep 0.2
done
$OK || fail "no S3 bucket PUT+DELETE within ${READY_S:-90} s (last PUT answered HTTP $LAST)$(logtail)"
printf '{"endpoint":"%s","access_key":"test:tester","secret_key":"testing","region":"us-east-1","bucket_create_ok":%s,"ready_ms":%d,"state":"%s"}\n' \
  "$EP" "$OK" $(( ($(date +%s%N) - T0) / 1000000 )) "$STATE"
