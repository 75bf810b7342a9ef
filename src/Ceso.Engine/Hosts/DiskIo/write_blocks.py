# Ceso disk block writer: runs on the ESXi host under its own python (3.6+, stdlib only), fed on stdin by the
# bootstrap in HelperScripts.cs. Protocol (all integers big-endian) in HelperFrames.cs.
# stdin after the script: one JSON line {"path", "capacity", "block"}, then frames B (index, length, data) and one E
# (the number of blocks sent). Writes each block at index * block into the existing file, nothing else, so the
# regions in between stay holes. stdout: H (hello) first, then T (blocks, bytes, CRC-32 of every B frame's index,
# length and data as received, as zlib.crc32, 4 bytes) or X (error).
import errno
import json
import os
import struct
import sys
import zlib

OUT = sys.stdout.buffer
INP = sys.stdin.buffer


def frame_error(code, message):
    data = (code + "\t" + message).encode("utf-8")
    OUT.write(b"X" + struct.pack(">I", len(data)) + data)
    OUT.flush()
    sys.exit(3)


def read_into(mv):
    got = 0
    while got < len(mv):
        k = INP.readinto(mv[got:])
        if not k:
            frame_error("HelperInputIncomplete", "the blocks ended early (the client stopped)")
        got += k


def main():
    OUT.write(b"HCESODIO1")
    OUT.flush()
    p = json.loads(INP.readline().decode("utf-8"))
    path, cap, bs = p["path"], int(p["capacity"]), int(p["block"])
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as e:
        frame_error("FileNotFound" if e.errno == errno.ENOENT else "HelperOpenFailed", "%s: %s" % (path, e.strerror))
    size = os.fstat(fd).st_size
    if size != cap:
        frame_error("DiskSizeMismatch", "%s has %d bytes, the disk's capacity is %d" % (path, size, cap))
    buf = bytearray(bs)
    mv = memoryview(buf)
    head = bytearray(12)
    crc = 0
    count = total = 0
    while True:
        t = INP.read(1)
        if t == b"B":
            read_into(memoryview(head))
            idx, n = struct.unpack(">QI", head)
            if n > bs or idx * bs + n > cap:
                frame_error("HelperBadFrame", "block %d of %d bytes lies outside the disk" % (idx, n))
            read_into(mv[:n])
            crc = zlib.crc32(mv[:n], zlib.crc32(head, crc))
            os.lseek(fd, idx * bs, os.SEEK_SET)
            done = 0
            while done < n:
                try:
                    done += os.write(fd, mv[done:n])
                except OSError as e:
                    code = "DatastoreFull" if e.errno == errno.ENOSPC else "HelperWriteFailed"
                    frame_error(code, "writing block %d of %s: %s" % (idx, path, e.strerror))
            count += 1
            total += n
        elif t == b"E":
            (expected,) = struct.unpack(">Q", INP.read(8))
            if expected != count:
                frame_error("HelperBadFrame", "%d blocks announced, %d received" % (expected, count))
            break
        elif not t:
            frame_error("HelperInputIncomplete", "the blocks ended early (the client stopped)")
        else:
            frame_error("HelperBadFrame", "unknown frame %r" % t)
    try:
        os.fsync(fd)
    except OSError as e:
        frame_error("HelperWriteFailed", "flushing %s: %s" % (path, e.strerror))
    os.close(fd)
    OUT.write(b"T" + struct.pack(">QQI", count, total, crc & 0xFFFFFFFF))
    OUT.flush()


main()
