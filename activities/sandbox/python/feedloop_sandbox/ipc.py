"""System V IPC objects outlive the processes that made them: removed after every run.

Each fork-server has a private IPC namespace (unshare --ipc), so what is listed here was made
by this server's programs; removing it after each run keeps one program's shared memory from
reaching the next one or piling up.
"""
import ctypes

IPC_RMID = 0
_libc = ctypes.CDLL(None, use_errno=True)



def _ids(kind):
    try:
        with open("/proc/sysvipc/%s" % kind) as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return []
    return [int(line.split()[1]) for line in lines if line.strip()]


def remove_all():
    """Removes every SysV shared-memory segment, semaphore set and message queue; returns how many."""
    removed = 0
    for ident in _ids("shm"):
        removed += _libc.shmctl(ident, IPC_RMID, None) == 0
    for ident in _ids("sem"):
        removed += _libc.semctl(ident, 0, IPC_RMID) == 0
    for ident in _ids("msg"):
        removed += _libc.msgctl(ident, IPC_RMID, None) == 0
    return removed
