"""Length-prefixed JSON frames between the Node driver and the fork-server (4-byte big-endian size)."""
import json
import os
import struct

MAX_FRAME_BYTES = 64 << 20


def _read_exact(fd, n):
    chunks = []
    while n > 0:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd):
    """The next frame as a dict, or None at end of input (the driver went away)."""
    header = _read_exact(fd, 4)
    if header is None:
        return None
    (size,) = struct.unpack(">I", header)
    if size > MAX_FRAME_BYTES:
        raise ValueError("frame of %d bytes exceeds the limit" % size)
    body = _read_exact(fd, size)
    if body is None:
        return None
    return json.loads(body.decode("utf-8"))


def write_frame(fd, message):
    # ASCII-only JSON: lone surrogates in program text or output survive the round trip.
    body = json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    data = struct.pack(">I", len(body)) + body
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
