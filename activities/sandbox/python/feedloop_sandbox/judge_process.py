"""The fork-server's judge: a process of its own that holds the tests and decides the verdicts.

Forked once when the server starts, before the server ever holds a program, it drops to a
dedicated uid (programs cannot signal, trace or read it) and reads each run's tests straight
from the Node driver over a pipe of its own: the tests never pass through the fork-server,
whose memory every program's process is a copy of. Per run the server hands it (SCM_RIGHTS)
the two ends of a fresh channel to the program's process; the judge forks a verifier from its
pristine state, which runs the tests (judge.judge) and reports the verdict back; the judge
passes it on to the server. A verifier that must be killed (the tests' own time ran out) is
reported as such; nothing the program sends can make this process fail.
"""
import json
import os
import resource
import select
import signal
import socket
import struct
import time

from . import confine, judge, protocol

VERIFIER_GRACE_S = 5.0


def start(tests_fd, uid, keep_pids):
    """Forks the judge; returns (pid, the server's end of the judge's socket)."""
    server_end, judge_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        try:
            server_end.close()
            _serve(judge_end, tests_fd, uid)
        finally:
            os._exit(0)
    judge_end.close()
    os.close(tests_fd)
    keep_pids.add(pid)
    return pid, server_end


def _confine_judge(uid):
    os.setsid()
    confine.set_parent_death_signal()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    else:
        confine.drop_all_capabilities()
    confine.set_no_new_privs()


def _serve(sock, tests_fd, uid):
    _confine_judge(uid)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, 65536, 4)
        except OSError:
            return
        if not data:
            return
        request = json.loads(data)
        try:
            verdict = _one_run(request, fds, tests_fd)
        except Exception as exc:  # noqa: BLE001 - the judge's own failure: the server calls it infra
            verdict = {"status": "judge_failed", "detail": "the judge failed: %r" % (exc,)}
        finally:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
        verdict["id"] = request.get("id")
        sock.send(json.dumps(verdict).encode()[:60000])


def _one_run(request, fds, tests_fd):
    while True:
        frame = protocol.read_frame(tests_fd)
        if frame is None:
            raise RuntimeError("the driver closed the tests pipe")
        if frame.get("id") == request.get("id"):
            break
        if not (isinstance(frame.get("id"), int) and frame["id"] < request.get("id", 0)):
            raise RuntimeError("tests for run %r arrived for run %r" % (frame.get("id"), request.get("id")))
        # tests of a request the server answered without running it (e.g. an injected fault)
    tests = frame.get("tests", "")
    limits = request["limits"]
    to_program, from_program = fds
    result_r, result_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(result_r)
            cpu_s = -(-int(limits["cpuMs"]) // 1000) + 10
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
            verdict = judge.judge(tests, to_program, from_program)
            body = json.dumps(verdict).encode()
            os.write(result_w, struct.pack(">I", len(body)) + body)
        finally:
            os._exit(0)
    os.close(result_w)
    for fd in fds:
        os.close(fd)
    fds[:] = []
    try:
        return _await_verifier(pid, result_r, float(limits["wallMs"]) / 1000.0 + VERIFIER_GRACE_S)
    finally:
        os.close(result_r)


def _await_verifier(pid, result_r, wall_s):
    deadline = time.monotonic() + wall_s
    raw = bytearray()
    timed_out = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([result_r], [], [], remaining)
        if ready:
            chunk = os.read(result_r, 1 << 20)
            if not chunk:
                break
            raw += chunk
    _, status = os.waitpid(pid, 0)
    if len(raw) >= 4 and len(raw) == 4 + struct.unpack(">I", bytes(raw[:4]))[0]:
        return json.loads(bytes(raw[4:]))
    if timed_out or (os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL)):
        return {"status": "judge_timeout", "detail": "the tests' own evaluation ran out of time"}
    return {"status": "judge_failed", "detail": "the verifier ended without a verdict (status %d)" % status}
