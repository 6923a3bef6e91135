"""A cgroup per fork-server for its runs: memory, processes and CPU time per run, not per process.

rlimits bound each process; a program that forks holds N times its memory limit, and its
children's CPU time escapes the CPU limit. Each server makes a cgroup of its own (below the
worker's own cgroup, in each v1 controller `memory`, `pids`, `cpuacct`, or the unified v2
tree), sets the run's limits on it before each run and moves the program's first process into
it before any program code runs; every process the program starts stays in it (moving out
needs root). Memory counts everything the kernel charges to the run: anonymous memory of every
process, tmpfs and shared memory pages it writes. CPU time is the sum of every process of the
run. Without a writable cgroup hierarchy the server runs with rlimits alone and says so.
"""
import fcntl
import os


# what the group may hold beyond the run's memory limit: the page cache of the files it reads
PAGE_CACHE_HEADROOM = 64 << 20
_ROOT = "/sys/fs/cgroup"


def _own_paths():
    """{controller: path of this process's cgroup}; v2 as key ''."""
    paths = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _id, controllers, path = line.rstrip("\n").split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                paths[c] = path
    return paths


class _At:
    """A cgroup directory by fd: the server keeps using it after it pivot_roots away from /sys."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def write(self, name, value):
        fd = os.open(name, os.O_WRONLY | os.O_CLOEXEC, dir_fd=self.fd)
        try:
            os.write(fd, str(value).encode())
        finally:
            os.close(fd)

    def read(self, name):
        fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=self.fd)
        try:
            return os.read(fd, 1 << 16).decode()
        finally:
            os.close(fd)

    def exists(self, name):
        try:
            os.stat(name, dir_fd=self.fd)
            return True
        except OSError:
            return False


def _read(path):
    with open(path, "rb") as f:
        return f.read().decode()


def _remove_stale(parent, keep, lock_dir):
    """Servers are killed, not stopped: the cgroups of dead ones are removed by the next to start.
    A cgroup is named after its server's program uid, whose lock file a live server holds
    (host.claim_uids): only cgroups whose lock is free are removed."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if name == keep or not name.startswith("server-uid-") or not name[len("server-uid-"):].isdigit():
            continue
        try:
            fd = os.open(os.path.join(lock_dir, "uid-%s.lock" % name[len("server-uid-"):]), os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rmdir(os.path.join(parent, name))
        except OSError:
            pass  # a live server's, or busy
        finally:
            os.close(fd)


class RunCgroup:
    """One cgroup (v1: one per controller) that each run of this server uses in turn."""

    def __init__(self, version, dirs):
        self.version = version
        paths = sorted(set(dirs.values()))
        at = {p: _At(p) for p in paths}
        self.dirs = {c: at[p] for c, p in dirs.items()}  # {controller: directory}
        self._procs = [os.open("cgroup.procs", os.O_WRONLY | os.O_CLOEXEC, dir_fd=at[p].fd) for p in paths]
        self._cpu_base = 0.0
        self._oom_base = 0

    @classmethod
    def create(cls, name, lock_dir):
        """The server's cgroup, or None where the host has no writable hierarchy."""
        try:
            own = _own_paths()
            if os.path.exists(os.path.join(_ROOT, "cgroup.controllers")):  # pure v2
                parent = _ROOT + own.get("", "/")
                enabled = _read(os.path.join(parent, "cgroup.subtree_control")).split()
                if not {"memory", "pids", "cpu"} <= set(enabled):
                    return None
                d = os.path.join(parent, "feedloop-sandbox-" + name)
                os.makedirs(d, exist_ok=True)
                return cls(2, {"memory": d, "pids": d, "cpu": d})
            dirs = {}
            for controller in ("memory", "pids", "cpuacct"):
                mount = os.path.join(_ROOT, controller)
                if not os.path.isdir(mount) or controller not in own:
                    return None
                parent = os.path.join(mount + own[controller], "feedloop-sandbox")
                _remove_stale(parent, name, lock_dir)
                d = os.path.join(parent, name)
                os.makedirs(d, exist_ok=True)
                dirs[controller] = d
            return cls(1, dirs)
        except OSError:
            return None

    def describe(self):
        return {"version": self.version, "dirs": sorted({d.path for d in self.dirs.values()})}

    def prepare(self, memory_bytes, processes):
        """Sets the next run's limits and the baselines its usage is measured from. The group
        gets PAGE_CACHE_HEADROOM over the memory limit: the group is charged for the pages of the
        files its processes touch (the interpreter, its libraries), and at a limit no larger than
        one process's RLIMIT_AS a growing program made the kernel reclaim those pages over and over
        (its CPU time ran out before MemoryError or the OOM killer came) instead of failing
        promptly as out of memory."""
        memory_bytes += PAGE_CACHE_HEADROOM
        if self.version == 1:
            mem = self.dirs["memory"]
            limit, memsw = "memory.limit_in_bytes", "memory.memsw.limit_in_bytes"
            # memory+swap may never be below memory: raise it first, lower it last (no swap use)
            order = [limit, memsw]
            if mem.exists(memsw) and int(mem.read(limit)) < memory_bytes:
                order = [memsw, limit]
            for name in order:
                if mem.exists(name):
                    mem.write(name, memory_bytes)
            mem.write("memory.max_usage_in_bytes", 0)
            self.dirs["pids"].write("pids.max", processes)
        else:
            d = self.dirs["memory"]
            d.write("memory.max", memory_bytes)
            if d.exists("memory.swap.max"):
                d.write("memory.swap.max", 0)
            d.write("pids.max", processes)
        self._cpu_base = self.cpu_ms()
        self._oom_base = self._oom_kills()

    def join(self):
        """Moves the calling process in (from the forked child, before it drops root)."""
        pid = str(os.getpid()).encode()
        for fd in self._procs:
            os.write(fd, pid)

    def cpu_ms(self):
        """CPU time of every process that ran in this cgroup (since its creation)."""
        try:
            if self.version == 1:
                return int(self.dirs["cpuacct"].read("cpuacct.usage")) / 1e6
            for line in self.dirs["cpu"].read("cpu.stat").splitlines():
                if line.startswith("usage_usec"):
                    return int(line.split()[1]) / 1e3
        except (OSError, ValueError):
            pass
        return 0.0

    def run_cpu_ms(self):
        return self.cpu_ms() - self._cpu_base

    def _oom_kills(self):
        try:
            name = "memory.oom_control" if self.version == 1 else "memory.events"
            for line in self.dirs["memory"].read(name).splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def run_oom_kills(self):
        return self._oom_kills() - self._oom_base

    def peak_kb(self):
        try:
            if self.version == 1:
                return int(self.dirs["memory"].read("memory.max_usage_in_bytes")) // 1024
            return int(self.dirs["memory"].read("memory.peak")) // 1024
        except (OSError, ValueError):
            return None
