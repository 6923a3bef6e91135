"""Length-prefixed JSON messages between a program's process and the judge (4-byte size).

Both ends use it, but only the judge's reading side matters for the verdict: it bounds what
it reads and turns anything malformed into `ChannelBroken`, which is the program's fault.
"""
# Builtins of our own, copied before any program runs: a program that patches `len` or
# `isinstance` for its own purposes does not break how this module talks to the judge.
__builtins__ = dict(__import__("builtins").__dict__)

import json
import os
import struct

MAX_MESSAGE = 32 << 20
_write, _read, _dumps, _pack = os.write, os.read, json.dumps, struct.pack


class ChannelBroken(Exception):
    """The other end closed the channel or wrote something that is not a message."""


def send(fd, message):
    body = _dumps(message, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")
    data = memoryview(_pack(">I", len(body)) + body)
    while data:
        try:
            written = _write(fd, data)
        except OSError as exc:
            raise ChannelBroken("the channel is closed (%s)" % exc.strerror)
        data = data[written:]


def _read_exact(fd, n):
    chunks = []
    while n > 0:
        try:
            chunk = _read(fd, min(n, 1 << 20))
        except OSError as exc:
            raise ChannelBroken("the channel failed (%s)" % exc.strerror)
        if not chunk:
            raise ChannelBroken("the channel was closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def receive(fd, limit=MAX_MESSAGE):
    (size,) = struct.unpack(">I", _read_exact(fd, 4))
    if size > limit:
        raise ChannelBroken("a message of %d bytes exceeds the %d-byte limit" % (size, limit))
    body = _read_exact(fd, size)
    try:
        message = json.loads(body.decode("ascii"))
    except (ValueError, RecursionError) as exc:
        raise ChannelBroken("garbage on the channel (%s)" % str(exc)[:200])
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise ChannelBroken("garbage on the channel (not a message)")
    return message
