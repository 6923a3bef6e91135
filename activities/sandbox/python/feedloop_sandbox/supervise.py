"""Watches one running program from the fork-server: output caps, CPU and wall limits, clean-up."""
import os
import select
import signal
import time

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_CPU_POLL_S = 0.02
EXCERPT_HEAD = 6000
EXCERPT_TAIL = 2000


class Capture:
    """Keeps the head and tail of a stream and counts its bytes."""

    def __init__(self, keep_all=False):
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.all = bytearray() if keep_all else None  # the whole stream (stdin/stdout runs: compared outside)

    def add(self, chunk):
        self.total += len(chunk)
        if self.all is not None:
            self.all += chunk
        room = EXCERPT_HEAD - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > EXCERPT_TAIL:
                del self.tail[: len(self.tail) - EXCERPT_TAIL]

    def text(self):
        head = self.head.decode("utf-8", "replace")
        cut = self.total - len(self.head) - len(self.tail)
        if cut <= 0:
            return head + self.tail.decode("utf-8", "replace")
        return "%s\n...[%d bytes omitted]...\n%s" % (head, cut, self.tail.decode("utf-8", "replace"))


class Observation:
    def __init__(self):
        self.status = None  # os.wait4 status
        self.rusage = None
        self.killed_for = None  # 'cpu' | 'wall' | 'output' | None
        self.driver_gone = False
        self.judged_early = False
        self.run_cpu_ms = None  # every process of the run (cgroup), when the server has one
        self.oom_kills = 0  # the verdict came while the program's process still ran
        self.verdict = None
        self.stdout = Capture()
        self.stderr = Capture()
        self.report = bytearray()
        self.wall_ms = 0.0


def cpu_ms_of(pid):
    """CPU time (user + system) of a live process, from /proc; None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000.0 / _CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


# How long a judged program may take to exit by itself before it is stopped (evidence only).
_JUDGED_EXIT_GRACE_S = 0.25


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def watch(pid, pidfd, out_fd, err_fd, report_fd, driver_fd, limits, started, stop_fd=None, cpu_of_run=None, keep_stdout=False):
    """Runs until the program's process exits (or is killed for a limit, or stop_fd, the
    judge's socket, has the verdict); reads its output meanwhile."""
    obs = Observation()
    if keep_stdout:
        obs.stdout = Capture(keep_all=True)
    streams = {out_fd: obs.stdout, err_fd: obs.stderr}
    poller = select.poll()
    for fd in (out_fd, err_fd, report_fd):
        os.set_blocking(fd, False)
        poller.register(fd, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    poller.register(driver_fd, select.POLLHUP)  # the driver never writes while a program runs
    if stop_fd is not None:
        poller.register(stop_fd, select.POLLIN)
    wall_deadline = started + limits["wallMs"] / 1000.0
    cpu_limit_ms = float(limits["cpuMs"])
    output_limit = int(limits["outputBytes"])
    next_cpu_check = time.monotonic() + _CPU_POLL_S
    exited = False
    while not exited:
        now = time.monotonic()
        if now >= wall_deadline:
            obs.killed_for = "wall"
            break
        if now >= next_cpu_check:
            # CPU time of every process of the run (its cgroup), else of the main process
            used = cpu_of_run() if cpu_of_run is not None else cpu_ms_of(pid)
            if used is not None and used >= cpu_limit_ms:
                obs.killed_for = "cpu"
                break
            next_cpu_check = now + _CPU_POLL_S
        timeout_ms = max(1, int(1000 * (min(wall_deadline, next_cpu_check) - now)) + 1)
        for fd, event in poller.poll(timeout_ms):
            if fd == pidfd:
                exited = True
            elif fd == driver_fd:
                obs.driver_gone = True
                exited = True
            elif fd == stop_fd:
                obs.judged_early = True
                exited = True
            elif fd == report_fd:
                _drain(fd, obs.report.extend, poller, limit=65536, seen=len(obs.report))
            else:
                _drain(fd, streams[fd].add, poller)
        if obs.stdout.total + obs.stderr.total > output_limit:
            obs.killed_for = "output"
            break
    if obs.judged_early and not (obs.killed_for or obs.driver_gone):
        # The verdict is in; a program that ends by itself right after its last call keeps its
        # own exit status in the evidence. One that does not is stopped after a short grace.
        if not select.select([pidfd], [], [], _JUDGED_EXIT_GRACE_S)[0]:
            _kill_group(pid)
    elif obs.killed_for or obs.driver_gone:
        _kill_group(pid)
    _, obs.status, obs.rusage = os.wait4(pid, 0)
    obs.wall_ms = (time.monotonic() - started) * 1000.0
    return obs, streams


def _drain(fd, sink, poller, limit=None, seen=0):
    """Reads what is available now; unregisters the fd at end of stream. False at EOF."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not chunk:
            try:
                poller.unregister(fd)
            except KeyError:
                pass
            return False
        if limit is not None:
            chunk = chunk[: max(0, limit - seen)]
            seen += len(chunk)
        sink(chunk)


def finish_reading(streams, report_fd, obs, output_limit):
    """After every process of the run is dead, reads what is left in the pipes (bounded)."""
    for fd, capture in list(streams.items()) + [(report_fd, None)]:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            if capture is None:
                if len(obs.report) < 65536:
                    obs.report.extend(chunk[: 65536 - len(obs.report)])
            else:
                capture.add(chunk)
            if obs.stdout.total + obs.stderr.total > output_limit and obs.killed_for is None:
                obs.killed_for = "output"
                break


def _namespace_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _state(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _parent(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def kill_leftovers(keep_pids, spare_children_of=None):
    """Kills every process of the (private) PID namespace except the server and `keep_pids`,
    and reaps them. Detached and daemonized children of a program end here. Returns how many
    could not be killed (0 normally)."""
    me = os.getpid()
    victims = []
    for _attempt in range(500):
        reap()
        victims = [p for p in _namespace_pids() if p != me and p not in keep_pids and _state(p) not in (None, b"Z")]
        if spare_children_of is not None:
            # the judge's verifier: no process of a program can become the judge's child
            victims = [p for p in victims if _parent(p) != spare_children_of]
        if not victims:
            return 0
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.0005)
    return len(victims)


def reap():
    """Collects exited children: orphans of programs, re-parented to the server (PID 1). The
    compile server's Popen copes with having its status collected here."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
