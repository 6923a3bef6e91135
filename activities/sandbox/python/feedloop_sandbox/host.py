"""One-time set-up of the fork-server's private namespaces (runs before any program).

The server is started by `unshare --net --mount --pid --fork --mount-proc` (plus `--user
--map-root-user` when not root). Here it checks it really has no network, claims dedicated
uids, and reshapes its private mount namespace: an empty size-limited tmpfs for work dirs on
/tmp, read-only empty tmpfs over the other world-writable dirs and over places that may hold
secrets (the project, home dirs, /run), with the interpreter and JDK bound back read-only.
"""
import ctypes
import fcntl
import os
import pwd

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


def _b(s):
    return None if s is None else os.fsencode(s)


def mount(source, target, fstype, flags, data=None):
    if _libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "mount %s on %s: %s" % (fstype or source, target, os.strerror(err)))


def network_interfaces():
    """Interfaces of this network namespace (from /proc/self/net/dev)."""
    with open("/proc/self/net/dev") as f:
        lines = f.read().splitlines()[2:]
    return sorted(line.split(":", 1)[0].strip() for line in lines if ":" in line)


def check_no_network():
    interfaces = network_interfaces()
    if interfaces not in ([], ["lo"]):
        raise RuntimeError("the fork-server is not in a private network namespace (interfaces: %s)" % interfaces)
    return interfaces


def claim_uids(lock_dir, first_uid, count, needed):
    """Claims `needed` uids no account uses, each held by an flock for this server's lifetime.

    Distinct uids per server keep RLIMIT_NPROC (counted per uid) from being shared between
    concurrent servers. The locks die with the server, so crashes leave nothing to clean.
    """
    os.makedirs(lock_dir, mode=0o700, exist_ok=True)
    claimed, fds = [], []
    offset = int.from_bytes(os.urandom(4), "big") % count  # not random: children would pay its at-fork reseed
    for i in range(count):
        uid = first_uid + (offset + i) % count
        try:
            pwd.getpwuid(uid)
            continue  # a real account: never run programs under it
        except KeyError:
            pass
        fd = os.open(os.path.join(lock_dir, "uid-%d.lock" % uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        claimed.append(uid)
        fds.append(fd)
        if len(claimed) == needed:
            return claimed, fds
    raise RuntimeError("no free sandbox uid in %d..%d" % (first_uid, first_uid + count - 1))


def _is_under(path, parent):
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _existing_dirs(paths):
    out = []
    for p in paths:
        real = os.path.realpath(p)
        if os.path.isdir(real) and real != "/" and real not in out:
            out.append(real)
    return sorted(out, key=len)


def _mask(path, expose, size="16k"):
    """Mounts an empty read-only tmpfs over `path`, binding the `expose` dirs below it back read-only."""
    keep = [e for e in expose if _is_under(e, path) and e != path]
    handles = [os.open(e, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for e in keep]
    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=%s,mode=0755" % size)
    for target, fd in zip(keep, handles):
        os.makedirs(target, mode=0o755, exist_ok=True)
        mount("/proc/self/fd/%d" % fd, target, None, MS_BIND | MS_REC)
        mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=%s,mode=0755" % size)


def shape_mounts(work_root, work_size_mb, mask_paths, expose_paths):
    """Returns a description of the mounts made, for the batch's audit record."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    expose = _existing_dirs(expose_paths)
    masked = []
    # Private, size-bounded space for the per-program work dirs; only root may create here.
    mount("tmpfs", work_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=%dm,mode=0755" % work_size_mb)
    world_writable = ["/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock", "/var/lock"]
    for path in _existing_dirs(list(mask_paths) + world_writable):
        if _is_under(work_root, path) or any(_is_under(path, m) for m in masked) or not os.path.isdir(path):
            continue
        if any(_is_under(path, e) for e in expose):
            continue  # never hide the interpreter or the JDK
        _mask(path, expose)
        masked.append(path)
    return {"workRoot": work_root, "workSizeMb": work_size_mb, "masked": masked, "exposedReadOnly": expose}


def set_child_subreaper():
    PR_SET_CHILD_SUBREAPER = 36
    if _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def limit_malloc_arenas():
    """glibc reserves up to 64 MiB of address space per malloc arena and thread; under
    RLIMIT_AS that would make a few threads look like a memory bomb. Children inherit this."""
    M_ARENA_MAX = -8
    _libc.mallopt(M_ARENA_MAX, 2)

