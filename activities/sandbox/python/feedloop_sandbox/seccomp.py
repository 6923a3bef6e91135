"""A seccomp filter that keeps programs from creating user namespaces of their own.

A user namespace would give the program every capability inside it (mounting a tmpfs, its own
mount and network namespaces...): each of those is bounded today, but none is needed, so the
door is closed. Installed in the program's child after no_new_privs and before any program
code; it is inherited by everything the program starts (the JVM, subprocesses).

The filter: unshare() and clone() with CLONE_NEWUSER fail with EPERM; clone3() fails with
ENOSYS (its flags are in memory a filter cannot read), so libc falls back to clone(), which
is checked; any other architecture's system calls (i386 through int 0x80, x32) fail with
ENOSYS. Everything else is allowed.
"""
import ctypes
import errno
import os
import platform

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
CLONE_NEWUSER = 0x10000000

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06

# (audit arch, unshare, clone, clone3, lowest number that is not this ABI's)
_ARCHES = {
    "x86_64": (0xC000003E, 272, 56, 435, 0x40000000),  # x32 numbers have bit 30 set
    "aarch64": (0xC00000B7, 97, 220, 435, None),
}


class _Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_Insn))]


def _program(machine):
    arch, unshare, clone, clone3, foreign = _ARCHES[machine]
    deny_enosys = (_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS)
    deny_eperm = (_RET_K, 0, 0, _RET_ERRNO | errno.EPERM)
    allow = (_RET_K, 0, 0, _RET_ALLOW)
    # Jumps are relative to the next instruction; the targets are the last five instructions.
    insns = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ_K, 1, 0, arch),
        deny_enosys,
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    if foreign is not None:
        insns += [(_JGE_K, 0, 1, foreign), deny_enosys]
    insns += [
        (_JEQ_K, 0, 1, clone3),
        deny_enosys,
        (_JEQ_K, 2, 0, unshare),
        (_JEQ_K, 1, 0, clone),
        allow,
        (_LD_W_ABS, 0, 0, 16),  # args[0], its low 32 bits (little-endian): the flags
        (_JSET_K, 0, 1, CLONE_NEWUSER),
        deny_eperm,
        allow,
    ]
    return insns


class UserNamespaceFilter:
    """Built once in the warm parent; install() in each child costs one prctl."""

    def __init__(self, prctl):
        self._prctl = prctl
        machine = platform.machine()
        self.supported = machine in _ARCHES
        if self.supported:
            insns = _program(machine)
            self._insns = (_Insn * len(insns))(*[_Insn(*i) for i in insns])
            self._prog = _Prog(len(insns), ctypes.cast(self._insns, ctypes.POINTER(_Insn)))

    def install(self):
        """Needs no_new_privs (or CAP_SYS_ADMIN). Raises OSError when the kernel refuses."""
        if not self.supported:
            return
        if self._prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(self._prog), 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "seccomp filter: %s" % os.strerror(err))
