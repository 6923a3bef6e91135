"""Per-program confinement, applied in the forked child before any program code runs."""
import ctypes
import os
import resource
import signal

from . import seccomp

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
_CAP_LAST = 63

_libc = ctypes.CDLL(None, use_errno=True)
# Resolved here, in the warm parent: a first ctypes lookup costs ~0.3 ms in every child.
_libc_prctl = _libc.prctl
_libc_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc_prctl.restype = ctypes.c_int
_NO_USER_NAMESPACES = seccomp.UserNamespaceFilter(_libc_prctl)

# What a program sees: no secrets, nothing inherited from the worker.
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


def rlimits_for(limits, language):
    """The rlimits of one run. The JVM reserves ~700 MiB of address space beyond its heap and
    runs ~20 threads (RLIMIT_NPROC counts threads), so Java gets that overhead on top."""
    cpu_s = -(-int(limits["cpuMs"]) // 1000) + 1  # backstop: the supervisor enforces cpuMs itself
    memory = int(limits["memoryMb"]) << 20
    processes = int(limits["processes"])
    if language == "java":
        memory += 1024 << 20
        processes += 64
    return {
        resource.RLIMIT_CPU: (cpu_s, cpu_s + 1),
        resource.RLIMIT_AS: (memory, memory),
        resource.RLIMIT_FSIZE: (int(limits["fileSizeMb"]) << 20,) * 2,
        resource.RLIMIT_NPROC: (processes, processes),
        resource.RLIMIT_NOFILE: (int(limits["openFiles"]),) * 2,
        resource.RLIMIT_CORE: (0, 0),
        resource.RLIMIT_MEMLOCK: (0, 0),
        resource.RLIMIT_MSGQUEUE: (0, 0),
    }


def _prctl(option, arg):
    if _libc_prctl(option, arg, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "prctl(%d): %s" % (option, os.strerror(err)))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_all_capabilities():
    """For user-namespace mode, where the child stays uid 0 of the namespace: no capability
    may remain, or it could unmount the read-only masks."""
    for cap in range(_CAP_LAST + 1):
        _libc_prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the kernel's last cap: fine
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if _libc.capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "capset: %s" % os.strerror(err))


def set_parent_death_signal():
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def set_no_new_privs():
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def confine(*, workdir, uid, gid, limits, language, fds, env):
    """Turns the freshly forked child into the sandboxed program's process.

    fds: (stdin, stdout, stderr, report) file descriptors to install as 0..3; every other
    descriptor (the driver's pipes, uid locks, the compiler's pipes) is closed.
    """
    os.setsid()  # own session and process group: the supervisor kills the whole group
    for target, fd in enumerate(fds):
        if fd != target:
            os.dup2(fd, target)
    os.closerange(len(fds), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    os.chdir(workdir)
    for kind, value in rlimits_for(limits, language).items():
        resource.setrlimit(kind, value)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if uid is not None:
        # The JVM re-opens its channel as /proc/self/fd/3 (and 4), which checks the owner.
        for fd in range(3, len(fds)):
            os.fchown(fd, uid, gid)
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    else:
        drop_all_capabilities()
    _prctl(PR_SET_NO_NEW_PRIVS, 1)  # setuid binaries (su, ping) cannot raise privileges again
    _NO_USER_NAMESPACES.install()  # no user namespace of its own (seccomp.py)
    # Changing uid made the process non-dumpable, which makes /proc/self root-owned; a normally
    # started process is dumpable (RLIMIT_CORE is 0, and only its own uid could ptrace it).
    _prctl(PR_SET_DUMPABLE, 1)
    for key in [k for k in os.environ if k not in env]:
        del os.environ[key]
    os.environ.update(env)
