"""A root of its own for the fork-server and its programs: a short allow-list, nothing else.

Masking listed paths leaves the rest of the host readable; here the server instead builds a
fresh root in its private mount namespace and pivot_roots into it, so for programs nothing else
exists. The tree: a read-only empty tmpfs holding read-only binds of /usr (system libraries
and tools, the JDK), the interpreter's prefix, the few /etc entries the interpreter and the
JVM read, a /dev with null, zero, full, random, urandom and tty, a fresh /proc of the server's
PID namespace, an empty read-only /dev/shm, and a size-limited tmpfs on /tmp for work dirs.
No /home, /root, /work, /sys, /run, /var, /mnt, /opt, no project checkout.
"""
import ctypes
import os

from .host import MS_BIND, MS_NODEV, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, _libc, mount

MNT_DETACH = 2
MS_NOEXEC = 8
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
ETC_ALLOW = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "alternatives",
             "java-17-openjdk", "java-21-openjdk", "java-11-openjdk", "ssl/certs/java", "mime.types")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
STAGING = "/tmp"


def _umount(path, flags):
    if _libc.umount2(os.fsencode(path), flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "umount %s: %s" % (path, os.strerror(err)))


def _pivot_root(new_root, put_old):
    number = _SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError("pivot_root: unknown architecture %s" % os.uname().machine)
    if _libc.syscall(number, os.fsencode(new_root), os.fsencode(put_old)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "pivot_root: %s" % os.strerror(err))


def _bind(source, target, read_only=True, device=False):
    if os.path.isdir(source):
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if device else MS_NODEV) | (MS_RDONLY if read_only else 0)
    mount(None, target, None, flags)


def _copy_symlink_or_bind(path, new):
    """/bin, /lib... are symlinks into /usr on merged-/usr hosts: the same link; else a bind."""
    if os.path.islink(path):
        os.symlink(os.readlink(path), new + path)
    elif os.path.isdir(path):
        _bind(path, new + path)


def build(work_root, work_size_mb, expose_paths):
    """Pivots into the minimal root; returns its description for the batch's audit record."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    new = STAGING
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    exposed = ["/usr"]
    _bind("/usr", new + "/usr")
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.lexists(top):
            _copy_symlink_or_bind(top, new)
    for path in sorted({os.path.realpath(p) for p in expose_paths if os.path.isdir(p)}, key=len):
        if path == "/usr" or path.startswith("/usr/") or any(path.startswith(e + "/") for e in exposed):
            continue
        _bind(path, new + path)
        exposed.append(path)
    etc = []
    for name in ETC_ALLOW:
        source = os.path.join("/etc", name)
        if os.path.lexists(source):
            if os.path.islink(source):
                os.makedirs(os.path.dirname(new + source), mode=0o755, exist_ok=True)
                os.symlink(os.readlink(source), new + source)
            else:
                _bind(source, new + source)
            etc.append(name)
    os.makedirs(new + "/etc", mode=0o755, exist_ok=True)
    with open(new + "/etc/passwd", "w") as f:
        f.write("root:x:0:0:root:/:/usr/sbin/nologin\n")
    with open(new + "/etc/group", "w") as f:
        f.write("root:x:0:\n")
    # /dev: the harmless devices, and the usual links
    os.makedirs(new + "/dev", mode=0o755)
    mount("tmpfs", new + "/dev", "tmpfs", MS_NOSUID, "size=64k,mode=0755")
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            _bind("/dev/" + name, new + "/dev/" + name, read_only=False, device=True)
    for link, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, new + "/dev/" + link)
    os.makedirs(new + "/dev/shm", mode=0o755)
    mount("tmpfs", new + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=16k,mode=0755")
    mount(None, new + "/dev", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID, "size=64k,mode=0755")
    os.makedirs(new + "/proc", mode=0o555)
    mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(new + work_root, mode=0o755, exist_ok=True)
    mount("tmpfs", new + work_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=%dm,mode=0755" % work_size_mb)
    os.makedirs(new + "/.old-root", mode=0o700)
    _pivot_root(new, new + "/.old-root")
    os.chdir("/")
    _umount("/.old-root", MNT_DETACH)
    os.rmdir("/.old-root")
    mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    return {"root": "minimal (pivot_root)", "workRoot": work_root, "workSizeMb": work_size_mb,
            "exposedReadOnly": exposed, "etc": etc, "devices": [d for d in DEVICES if os.path.exists("/dev/" + d)]}
