"""Java support: a warm compiler JVM (javax.tools) and the launcher that runs MBXP's Main.

javac in a fresh JVM costs ~1 s per program; a long-lived compile server brings that to tens
of ms. It runs under its own uid with rlimits and no network, and never executes the code it
compiles (-proc:none: no annotation processors). Each program then runs in its own JVM, started
by the fork-server with the same confinement as Python programs.
"""
import hashlib
import json
import os
import resource
import select
import shutil
import time

from . import confine, spawn
from .supervise import cpu_ms_of

LAUNCHER_CLASS = "FeedloopLauncher"
CALLEE_CLASS = "FeedloopCallee"  # the program's JVM of a judged run (java_judge.py)
COMPILER_CLASS = "FeedloopCompileServer"
# The compile server reuses javac's context through JDK-internal API (JShell's own) and
# formats diagnostics with javac's own formatter.
JAVAC_POOL_EXPORT = [
    "--add-exports", "jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
    "--add-exports", "jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
]
# Wall safety net for one compilation; the verdict limit is the compile server's CPU time.
COMPILE_WALL_S = 60.0
MAX_DIAGNOSTICS = 6000


def find_jdk():
    """(java, javac) real paths from JAVA_HOME or PATH, or None when no JDK is installed."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        return None
    home = os.path.dirname(os.path.dirname(os.path.realpath(java)))
    javac = os.path.join(home, "bin", "javac")
    if not os.access(javac, os.X_OK):
        return None
    return os.path.join(home, "bin", "java"), javac


class CompileTimeout(Exception):
    pass


class CompilerCrashed(Exception):
    pass


def open_cache_dir(path):
    """A directory fd for the host-wide cache of compiled support classes, opened before the
    mounts hide the host's /tmp. Refused unless we own it and nobody else may write to it
    (a class planted there would run as the launcher)."""
    os.makedirs(path, mode=0o755, exist_ok=True)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    st = os.fstat(fd)
    if st.st_uid != os.getuid() or st.st_mode & 0o022:
        os.close(fd)
        return None
    return fd


class JavaToolchain:
    def __init__(self, jdk, sources, support_root, compile_uid, keep_pids, cache_fd=None):
        self.java, self.javac = jdk
        self._sources = sources  # {file name: text}, read before the project dir was masked
        self._cache_fd = cache_fd
        digest = hashlib.sha256(os.path.realpath(self.java).encode())
        for name in sorted(sources):
            digest.update(name.encode() + b"\0" + sources[name].encode())
        self._stamp = digest.hexdigest()[:24]
        self._support_root = support_root
        self.classes_dir = os.path.join(support_root, "classes")
        self._compile_uid = compile_uid
        self._keep_pids = keep_pids  # pids the leftover-killer must spare (the compile server)
        self._server = None
        self._ready = False

    def _load_cached(self):
        try:
            entry = os.open(self._stamp, os.O_RDONLY | os.O_DIRECTORY, dir_fd=self._cache_fd)
        except OSError:
            return False
        try:
            for name in os.listdir(entry):
                fd = os.open(name, os.O_RDONLY, dir_fd=entry)
                with os.fdopen(fd, "rb") as src, open(os.path.join(self.classes_dir, name), "wb") as dst:
                    dst.write(src.read())
        finally:
            os.close(entry)
        return True

    def _store_cached(self):
        staging = "%s.%d.tmp" % (self._stamp, os.getpid())
        try:
            os.mkdir(staging, 0o755, dir_fd=self._cache_fd)
            entry = os.open(staging, os.O_RDONLY | os.O_DIRECTORY, dir_fd=self._cache_fd)
            try:
                for name in os.listdir(self.classes_dir):
                    with open(os.path.join(self.classes_dir, name), "rb") as src:
                        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=entry)
                        with os.fdopen(fd, "wb") as dst:
                            dst.write(src.read())
            finally:
                os.close(entry)
            os.rename(staging, self._stamp, src_dir_fd=self._cache_fd, dst_dir_fd=self._cache_fd)
        except OSError:
            pass  # another server stored it first, or the cache is unusable: compiling again is fine

    def _build_support(self):
        src = os.path.join(self._support_root, "src")
        os.makedirs(src, mode=0o755, exist_ok=True)
        os.makedirs(self.classes_dir, mode=0o755, exist_ok=True)
        if self._cache_fd is not None and self._load_cached():
            self._fix_modes()
            return
        files = []
        for name, text in self._sources.items():
            path = os.path.join(src, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            files.append(path)
        code, output = spawn.run(
            [self.javac, "-proc:none", "-encoding", "UTF-8"] + JAVAC_POOL_EXPORT + ["-d", self.classes_dir] + files,
            env=dict(confine.BASE_ENV),
            cwd=self._support_root,
            timeout_s=120,
        )
        if code != 0:
            raise RuntimeError("could not compile the Java launcher: %s" % output.decode("utf-8", "replace")[-2000:])
        if self._cache_fd is not None:
            self._store_cached()
        self._fix_modes()

    def _fix_modes(self):
        for root, dirs, names in os.walk(self._support_root):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
            for n in names:
                os.chmod(os.path.join(root, n), 0o644)
        self._ready = True

    def _start_server(self):
        self._server = self.start_helper(self._compile_uid, COMPILER_CLASS, "compiler-home", JAVAC_POOL_EXPORT)
        self._buffer = b""

    def start_helper(self, uid, main_class, home_name, extra_args=()):
        """Starts a warm helper JVM (the compile server, the judge) under uid with rlimits, no
        capabilities and its own session: {pid, stdin, stdout}, its pid spared by the
        leftover-killer."""
        if not self._ready:
            self._build_support()

        def drop():
            limits = {"cpuMs": 10**9, "memoryMb": 1 << 20, "processes": 512, "fileSizeMb": 64, "openFiles": 1024}
            rl = confine.rlimits_for(limits, "python")
            del rl[resource.RLIMIT_AS]  # the JVM's heap is bounded by -Xmx instead
            del rl[resource.RLIMIT_CPU]
            for kind, value in rl.items():
                resource.setrlimit(kind, value)
            os.setsid()
            if uid is not None:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
            else:
                confine.drop_all_capabilities()

        cwd = os.path.join(self._support_root, home_name)
        os.makedirs(cwd, mode=0o700, exist_ok=True)
        if uid is not None:
            os.chown(cwd, uid, uid)
        in_r, in_w = os.pipe2(os.O_CLOEXEC)
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        try:
            pid = spawn.spawn(
                [self.java, "-Xshare:auto", "-XX:+UseSerialGC", "-Xmx512m", "-XX:-UsePerfData", "-XX:+DisableAttachMechanism"] + list(extra_args) + [
                 "-Djava.io.tmpdir=" + cwd, "-cp", self.classes_dir, main_class],
                env=dict(confine.BASE_ENV, HOME=cwd, MALLOC_ARENA_MAX="2"),
                cwd=cwd,
                stdin=in_r,
                stdout=out_w,
                prepare=drop,
            )
        finally:
            os.close(in_r)
            os.close(out_w)
        self._keep_pids.add(pid)
        return {"pid": pid, "stdin": in_w, "stdout": out_r}

    def stop_helper(self, helper):
        spawn.kill(helper["pid"])
        self._keep_pids.discard(helper["pid"])
        os.close(helper["stdin"])
        os.close(helper["stdout"])

    def stop_server(self):
        if self._server is None:
            return
        server, self._server = self._server, None
        self.stop_helper(server)

    def compile(self, src_file, out_dir, cpu_limit_ms):
        """(ok, diagnostics, wall_ms). Raises CompileTimeout, or CompilerCrashed when the
        compiler died (the caller retries once with a fresh one)."""
        reply, wall_ms = self._request("%s\t%s\n" % (src_file, out_dir), cpu_limit_ms)
        return bool(reply.get("ok")), (reply.get("diagnostics") or "")[:MAX_DIAGNOSTICS], wall_ms

    def analyze(self, src_file, out_dir, cpu_limit_ms):
        """Compiles with -Xlint:all: (ok, diagnostics, wall_ms, items, methods), items being
        javac's diagnostics with their codes and lines, methods the declared methods with
        their resolved types (both bounded by the compile server)."""
        reply, wall_ms = self._request("%s\t%s\tanalyze\n" % (src_file, out_dir), cpu_limit_ms)
        items = reply.get("items") if isinstance(reply.get("items"), list) else []
        methods = reply.get("methods") if isinstance(reply.get("methods"), list) else []
        return bool(reply.get("ok")), (reply.get("diagnostics") or "")[:MAX_DIAGNOSTICS], wall_ms, items, methods

    def _request(self, line, cpu_limit_ms):
        if not self._ready:
            self._build_support()
        if self._server is None or not spawn.alive(self._server["pid"]):
            self.stop_server()
            self._start_server()
        server = self._server
        started = time.monotonic()
        cpu_before = cpu_ms_of(server["pid"]) or 0.0
        try:
            os.write(server["stdin"], line.encode("utf-8"))
        except OSError as exc:
            self.stop_server()
            raise CompilerCrashed("compile server gone: %s" % exc)
        fd = server["stdout"]
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([fd], [], [], 0.02)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.stop_server()
                    raise CompilerCrashed("compile server exited")
                self._buffer += chunk
                continue
            used = (cpu_ms_of(server["pid"]) or cpu_before) - cpu_before
            if used > cpu_limit_ms or time.monotonic() - started > COMPILE_WALL_S:
                self.stop_server()
                raise CompileTimeout("compilation exceeded %d ms of CPU time" % cpu_limit_ms)
        reply_line, self._buffer = self._buffer.split(b"\n", 1)
        reply = json.loads(reply_line.decode("utf-8", "replace"))
        return reply, (time.monotonic() - started) * 1000.0

    def run_argv(self, limits, home, classes_dir, main_class=LAUNCHER_CLASS):
        return [
            self.java,
            "-Xshare:auto",
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-XX:-UsePerfData",
            "-XX:+DisableAttachMechanism",
            "-XX:ReservedCodeCacheSize=32m",
            "-XX:CompressedClassSpaceSize=64m",
            "-XX:MaxMetaspaceSize=128m",
            "-Xmx%dm" % int(limits["memoryMb"]),
            "-XX:ErrorFile=%s/hs_err_%%p.log" % home,
            "-Djava.io.tmpdir=" + home,
            "-Duser.home=" + home,
            "-Dfile.encoding=UTF-8",
            "-cp",
            "%s:%s" % (self.classes_dir, classes_dir),
            main_class,
        ]

    @staticmethod
    def run_env(home):
        return dict(confine.BASE_ENV, HOME=home, TMPDIR=home, MALLOC_ARENA_MAX="2")
