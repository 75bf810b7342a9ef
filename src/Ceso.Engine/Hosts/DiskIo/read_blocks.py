# Ceso disk block reader: runs on the ESXi host under its own python (3.6+, stdlib only), fed on stdin by the
# bootstrap in HelperScripts.cs. Protocol (all integers big-endian) in HelperFrames.cs.
# stdin after the script: one JSON line {"path", "capacity", "block", "known"}, then known * 32 bytes of SHA-256.
# stdout: frames H (hello), then B (block with data) / K (known block, no data) / P (progress) in index order,
# then T (trailer with the counts) or X (error) as the last frame.
import errno
import hashlib
import json
import os
import struct
import sys

OUT = sys.stdout.buffer
INP = sys.stdin.buffer
PROGRESS_EVERY = 64


def frame_error(code, message):
    data = (code + "\t" + message).encode("utf-8")
    OUT.write(b"X" + struct.pack(">I", len(data)) + data)
    OUT.flush()
    sys.exit(3)


def read_exact(n):
    data = INP.read(n)
    if data is None or len(data) != n:
        frame_error("HelperInputIncomplete", "the parameters ended early")
    return data


def main():
    OUT.write(b"HCESODIO1")
    OUT.flush()
    p = json.loads(INP.readline().decode("utf-8"))
    path, cap, bs, nknown = p["path"], int(p["capacity"]), int(p["block"]), int(p["known"])
    raw = read_exact(nknown * 32) if nknown else b""
    known = set(raw[i:i + 32] for i in range(0, len(raw), 32))
    del raw
    try:
        f = open(path, "rb", buffering=0)
    except OSError as e:
        frame_error("FileNotFound" if e.errno == errno.ENOENT else "HelperOpenFailed", "%s: %s" % (path, e.strerror))
    fd = f.fileno()
    size = os.fstat(fd).st_size
    if size != cap:
        frame_error("DiskSizeMismatch", "%s has %d bytes, the disk's capacity is %d" % (path, size, cap))
    seek_data = getattr(os, "SEEK_DATA", None)
    seek_hole = getattr(os, "SEEK_HOLE", None)
    use_seek = seek_data is not None and seek_hole is not None
    used_seek = 0
    buf = bytearray(bs)
    mv = memoryview(buf)
    zero = bytes(bs)
    nblocks = (cap + bs - 1) // bs
    data_end = 0  # [off, data_end) is known to hold data (from SEEK_HOLE)
    sent = known_count = zeros = 0
    idx = 0
    since = 0
    while idx < nblocks:
        off = idx * bs
        if use_seek and off >= data_end:
            try:
                d = os.lseek(fd, off, seek_data)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    d = cap  # nothing but hole up to the end
                else:
                    use_seek = False  # the file system cannot tell: read everything
                    d = off
            if use_seek:
                used_seek = 1
                first = min(d // bs, nblocks)
                if first > idx:
                    zeros += first - idx
                    idx = first
                    OUT.write(b"P" + struct.pack(">Q", min(idx * bs, cap)))
                    continue
                try:
                    data_end = os.lseek(fd, d, seek_hole)
                except OSError:
                    data_end = cap
        n = min(bs, cap - off)
        f.seek(off)
        got = 0
        while got < n:
            k = f.readinto(mv[got:n])
            if not k:
                frame_error("HelperReadFailed", "%s ended at byte %d, before its size %d" % (path, off + got, cap))
            got += k
        block = mv[:n]
        if (buf == zero) if n == bs else (bytes(block) == zero[:n]):
            zeros += 1
        else:
            h = hashlib.sha256(block).digest()
            if h in known:
                known_count += 1
                OUT.write(b"K" + struct.pack(">Q", idx) + h + struct.pack(">I", n))
            else:
                sent += 1
                OUT.write(b"B" + struct.pack(">Q", idx) + h + struct.pack(">I", n))
                OUT.write(block)
            since = 0
        idx += 1
        since += 1
        if since >= PROGRESS_EVERY:
            OUT.write(b"P" + struct.pack(">Q", min(idx * bs, cap)))
            since = 0
    f.close()
    OUT.write(b"T" + struct.pack(">QQQQB", sent, known_count, zeros, cap, used_seek))
    OUT.flush()


main()
