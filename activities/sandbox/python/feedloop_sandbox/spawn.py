"""Starting helper processes (javac, the compile server) without the subprocess module.

Importing subprocess pulls in threading, whose at-fork hooks add ~0.5 ms to every program the
server forks afterwards: a fifth of a short program's whole cost.
"""
import os
import select
import signal
import time

_MAX_FD = 1 << 16


def spawn(argv, *, env, cwd, stdin=None, stdout=None, stderr=None, prepare=None):
    """Forks and executes argv with the given fds (else /dev/null) as 0, 1 and 2 and nothing
    else open; prepare() runs in the child just before exec. Returns the pid."""
    pid = os.fork()
    if pid == 0:
        try:
            devnull = os.open(os.devnull, os.O_RDWR)
            for target, fd in enumerate((stdin, stdout, stderr)):
                os.dup2(devnull if fd is None else fd, target)
            os.closerange(3, _MAX_FD)
            os.chdir(cwd)
            if prepare is not None:
                prepare()
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    return pid


def run(argv, *, env, cwd, timeout_s):
    """Runs argv to completion: (exit code, stdout and stderr). Raises TimeoutError."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    try:
        pid = spawn(argv, env=env, cwd=cwd, stdout=write_end, stderr=write_end)
        os.close(write_end)
        write_end = None
        output = bytearray()
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kill(pid)
                raise TimeoutError("%s took longer than %d s" % (argv[0], timeout_s))
            ready, _, _ = select.select([read_end], [], [], remaining)
            if ready:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                output += chunk[: max(0, 1 << 20 - len(output))]
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), bytes(output)
    finally:
        os.close(read_end)
        if write_end is not None:
            os.close(write_end)


def alive(pid):
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False  # already reaped by the server's orphan reaper
    return done == 0


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
