"""The fork-server: a warm Python parent that runs one confined child per program.

It never runs user code itself, so every child starts from the same pristine interpreter
state (fresh globals, the same sys.modules). Requests are served one at a time; the Node
driver runs several servers for concurrency. Each program gets: its own process and process
group, a private work dir (removed afterwards), rlimits, a dedicated uid, no network, a
scrubbed environment; when it ends, every process it left behind is killed.
"""
import fcntl
import gc
import json
import os
import select
import socket
import sys
import time
import traceback

from . import callee, cgroups, classify, cleanup, ipc, rootfs, confine, harness, host, java, java_judge, java_stub, judge_process, protocol, stdio, supervise

# Imported once here so children do not pay for them; a child only sees copies. Not random
# (its at-fork reseed would cost every child) nor anything importing threading (its at-fork
# hooks cost ~0.5 ms per fork): programs import those themselves.
PRELOAD = (
    "re", "math", "cmath", "heapq", "bisect", "collections", "collections.abc", "itertools", "functools",
    "operator", "string", "array", "copy", "fractions", "decimal", "datetime",
    "typing", "hashlib", "struct", "json", "textwrap", "unicodedata", "enum", "dataclasses", "numbers",
)
WORK_ROOT = "/tmp"


class Server:
    def __init__(self, config, ctrl_in, ctrl_out, tests_fd=None):
        self.config = config
        self.marks = []
        self.tests_fd = tests_fd
        self.judge_pid = self.judge_sock = None
        self.ctrl_in = ctrl_in
        self.ctrl_out = ctrl_out
        self.mode = config["mode"]
        self.keep_pids = set()
        self.runs = 0
        self.devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        self.uid = self.compile_uid = None
        self.toolchain = None
        self.java_judge = None
        self.info = {}
        self.broken = None  # set when this server must not serve another run
        self.cleanup_problems = []  # reported with the next reply, for the host's log

    # -- start-up ---------------------------------------------------------------------------

    def setup(self):
        interfaces = host.check_no_network()
        self.judge_uid = None
        if self.mode == "root":
            (self.uid, self.compile_uid, self.judge_uid), self._uid_locks = host.claim_uids(
                self.config["lockDir"], self.config["uidFirst"], self.config["uidCount"], 3
            )
        self.cgroup = cgroups.RunCgroup.create("server-uid-%d" % self.uid, self.config["lockDir"]) if self.mode == "root" else None
        java_sources = {}
        for path in self.config.get("javaSources", []):
            with open(path, encoding="utf-8") as f:
                java_sources[os.path.basename(path)] = f.read()
        jdk = java.find_jdk()
        cache_fd = java.open_cache_dir(self.config["javaCacheDir"]) if jdk and self.config.get("javaCacheDir") else None
        expose = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))]
        if jdk:
            expose.append(os.path.dirname(os.path.dirname(jdk[0])))
        if self.config.get("minimalRoot", True):
            mounts = rootfs.build(WORK_ROOT, self.config["workSizeMb"], expose)
        else:
            mounts = host.shape_mounts(WORK_ROOT, self.config["workSizeMb"], self.config["mask"], expose)
        host.set_child_subreaper()
        host.limit_malloc_arenas()
        if jdk and java_sources:
            self.toolchain = java.JavaToolchain(
                jdk, java_sources, os.path.join(WORK_ROOT, "java-support"), self.compile_uid, self.keep_pids, cache_fd
            )
            if self.judge_uid is not None and self.config.get("javaJudge", True):
                # Only with uids of its own: the tests must be unreadable to the program's uid.
                self.java_judge = java_judge.JavaJudge(self.toolchain, self.judge_uid, WORK_ROOT)
        for name in PRELOAD:
            try:
                __import__(name)
            except ImportError:
                pass
        if self.tests_fd is not None:
            # Forked before this server ever holds a program: the judge's memory has tests only.
            self.judge_pid, self.judge_sock = judge_process.start(self.tests_fd, self.judge_uid, self.keep_pids)
            self.tests_fd = None
        gc.collect()
        gc.freeze()  # keeps the warm parent's objects out of collections: fewer copied pages per fork
        self.info = {
            "pid": os.getpid(),
            "mode": self.mode,
            "uid": self.uid,
            "compileUid": self.compile_uid,
            "judgeUid": self.judge_uid,
            "verdict": "judge process" if self.judge_pid else "in-process",
            "javaVerdict": "judge JVM" if self.java_judge else "in-process",
            "python": sys.version.split()[0],
            "executable": sys.executable,
            "network": {"namespace": "private", "interfaces": interfaces},
            "cgroup": self.cgroup.describe() if self.cgroup else None,
            "mounts": mounts,
            "java": jdk[0] if jdk else None,
        }

    # -- one program ------------------------------------------------------------------------

    def _mark(self, stage):
        """Where a run's time goes (`profile: true` in a request: the reply says, per stage, in ms)."""
        self.marks.append((stage, time.monotonic()))

    def _workdir(self):
        self.runs += 1
        path = os.path.join(WORK_ROOT, "run-%d" % self.runs)
        os.mkdir(path, 0o755)
        return path

    def _clean(self, workdir):
        problem = cleanup.remove_tree(workdir)
        if problem:
            self.cleanup_problems.append(problem)
            sys.stderr.write("feedloop sandbox: %s\n" % problem)

    def _own(self, path, uid, mode):
        if uid is not None:
            os.chown(path, uid, uid)
        os.chmod(path, mode)

    def _run_child(self, *, workdir, language, limits, body, nonce_on_stdin=False, judged=None, stdin_fd=None):
        """Forks the confined child, which calls body(nonce); supervises it to the end.

        judged: a _PythonJudged or _JavaJudged run: fds 3 and 4 of the child are its channel
        to the judge (answers out, requests in), and the run ends when the judge's verdict
        arrives (obs.verdict) or the program's process ends."""
        fds = _Fds()
        try:
            out_r, out_w = fds.pipe()
            err_r, err_w = fds.pipe()
            child_extra = ()
            stop_fd = None
            if judged is not None:
                ans_w, ask_r = judged.open_channel(fds, limits)
                rep_r, rep_w = fds.pipe()  # unused by the program; keeps the report path uniform
                child_extra = (ask_r,)
                stop_fd = judged.stop_fd
                rep_w_child = ans_w
            else:
                rep_r, rep_w = fds.pipe()
                rep_w_child = rep_w
            self._mark("channels")
            in_r, in_w = fds.pipe() if nonce_on_stdin else (stdin_fd if stdin_fd is not None else self.devnull, None)
            nonce = os.urandom(16).hex()
            env = dict(confine.BASE_ENV, HOME=workdir, TMPDIR=workdir)
            for stream in (sys.stdout, sys.stderr):
                stream.flush()  # nothing buffered here may surface as the program's output
            if self.cgroup:
                rl = confine.rlimits_for(limits, language)
                self.cgroup.prepare(rl[confine.resource.RLIMIT_AS][0], rl[confine.resource.RLIMIT_NPROC][0])
            self._mark("cgroup")
            started = time.monotonic()
            pid = os.fork()
            if pid == 0:
                try:
                    if self.cgroup:
                        self.cgroup.join()  # before any program code: all it starts stays in
                    confine.confine(workdir=workdir, uid=self.uid, gid=self.uid, limits=limits, language=language,
                                    fds=(in_r, out_w, err_w, rep_w_child) + child_extra, env=env)
                    body(nonce)
                except BaseException as exc:  # noqa: B902 - nothing may escape a forked child
                    try:
                        os.write(2, ("feedloop sandbox: could not start the program: %r\n" % (exc,)).encode())
                    finally:
                        os._exit(121)
                os._exit(121)
            self._mark("fork")
            fds.close(out_w, err_w, rep_w, in_r if in_w is not None else None)
            if judged is not None:
                fds.close(ans_w, *child_extra)
            obs = None
            try:
                if in_w is not None:
                    os.write(in_w, (nonce + "\n").encode())
                    fds.close(in_w)
                pidfd = fds.add(os.pidfd_open(pid))
                obs, streams = supervise.watch(pid, pidfd, out_r, err_r, rep_r, self.ctrl_in, limits, started, stop_fd=stop_fd,
                                               cpu_of_run=self.cgroup.run_cpu_ms if self.cgroup else None,
                                               keep_stdout=stdin_fd is not None)
                self._mark("run")
            finally:
                # The judge's verifier is spared: once the program's processes are gone it sees
                # the channel close and answers.
                leftovers = supervise.kill_leftovers(self.keep_pids, spare_children_of=judged.spare_children_of if judged is not None else None)
                ipc.remove_all()
                self._mark("kill")
            if judged is not None and not obs.driver_gone:
                obs.verdict = judged.await_verdict(limits)
                self._mark("verdict")
            supervise.finish_reading(streams, rep_r, obs, int(limits["outputBytes"]))
            obs.leftovers = leftovers
            if self.cgroup:
                obs.run_cpu_ms = self.cgroup.run_cpu_ms()
                obs.oom_kills = self.cgroup.run_oom_kills()
            obs.pid = pid
            self._mark("read")
            return obs, nonce
        finally:
            fds.close_all()

    def _await_verdict(self, run_id, limits):
        """The judge's verdict for run_id. No verdict in time means the judge is broken: this
        server then ends after answering (the driver starts a fresh one)."""
        deadline = time.monotonic() + float(limits["wallMs"]) / 1000.0 + judge_process.VERIFIER_GRACE_S + 5.0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.judge_sock], [], [], remaining)[0]:
                self.broken = "the judge gave no verdict in time"
                return {"status": "judge_failed", "detail": self.broken}
            data = self.judge_sock.recv(65536)
            if not data:
                self.broken = "the judge exited"
                return {"status": "judge_failed", "detail": self.broken}
            verdict = json.loads(data)
            if verdict.get("id") == run_id:
                return verdict

    def _result(self, obs, nonce, limits, extra=None):
        if obs.verdict is not None:
            outcome, detail = classify.classify_judged(obs, obs.verdict, limits)
        else:
            outcome, detail = classify.classify(obs, nonce, obs.pid, limits)
        status = obs.status
        result = {
            "outcome": outcome,
            "detail": detail,
            "durationMs": round(obs.wall_ms, 3),
            "cpuMs": round(max(classify.cpu_ms(obs.rusage), obs.run_cpu_ms or 0.0), 3),
            "maxRssKb": obs.rusage.ru_maxrss,
            "exitCode": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": _signal_name(os.WTERMSIG(status)) if os.WIFSIGNALED(status) else None,
            "stdout": obs.stdout.text(),
            "stderr": obs.stderr.text(),
            "stdoutBytes": obs.stdout.total,
            "stderrBytes": obs.stderr.total,
        }
        if obs.verdict is None:
            if outcome != "infra_error":
                result["verdict"] = "in-process"  # Java's MBXP Main: checked in the program's JVM
        else:
            result["verdict"] = "in-process" if obs.verdict.get("inProcess") else "judge"
            evidence = obs.verdict.get("evidence")
            if isinstance(evidence, str) and evidence:
                result["stderr"] += ("" if not result["stderr"] or result["stderr"].endswith("\n") else "\n") + "[judge] " + evidence
        if obs.leftovers:
            # Not the program's outcome to change: the host logs it and this server is replaced.
            self.broken = "%d processes of a program could not be killed" % obs.leftovers
            sys.stderr.write("feedloop sandbox: %s\n" % self.broken)
        if extra:
            result.update(extra)
        return result, obs.driver_gone

    def run_python(self, request):
        limits = request["limits"]
        workdir = self._workdir()
        try:
            self._own(workdir, self.uid, 0o700)
            self._mark("workdir")
            program = request["program"]
            if self.judge_sock is not None and request.get("judged"):
                obs, nonce = self._run_child(
                    workdir=workdir, language="python", limits=limits,
                    body=lambda _nonce: callee.run(program, 4, 3), judged=_PythonJudged(self, request["id"]),
                )
            else:
                tests = request["tests"]
                obs, nonce = self._run_child(
                    workdir=workdir, language="python", limits=limits,
                    body=lambda nonce: harness.run(program, tests, nonce),
                )
            result = self._result(obs, nonce, limits)
            self._mark("result")
            return result
        finally:
            self._clean(workdir)
            self._mark("clean")

    def run_java(self, request):
        limits = request["limits"]
        if self.toolchain is None:
            return _infra("no JDK (java and javac) found on the sandbox host"), False
        workdir = self._workdir()
        try:
            src, classes, home = (os.path.join(workdir, d) for d in ("src", "classes", "home"))
            os.mkdir(src, 0o755)
            os.mkdir(classes)
            self._own(classes, self.compile_uid, 0o755)
            os.mkdir(home)
            self._own(home, self.uid, 0o700)
            if self.java_judge is not None:
                judged = self._run_java_judged(request, limits, src, classes, home)
                if judged is not None:
                    return judged
                # Not judgeable (or the program alone does not compile): MBXP's own way below.
                cleanup.remove_tree(classes)
                os.mkdir(classes)
                self._own(classes, self.compile_uid, 0o755)
            source = os.path.join(src, "Main.java")
            with open(source, "w", encoding="utf-8", errors="surrogatepass") as f:
                f.write(request["program"] + "\n" + request["tests"] + "\n")
            os.chmod(source, 0o644)
            started = time.monotonic()
            try:
                ok, diagnostics, compile_ms = self._compile(source, classes, limits)
            except java.CompileTimeout as exc:
                return _verdict("timeout", str(exc), started), False
            except java.CompilerCrashed as exc:
                # javac reports its own failures as diagnostics; a dead compiler process is ours.
                return _infra("the Java compile server died twice: %s" % exc), False
            if not ok:
                result = _verdict("compile_error", "javac failed", started)
                result["stderr"] = diagnostics
                return result, False
            argv = self.toolchain.run_argv(limits, home, classes)
            env = self.toolchain.run_env(home)
            obs, nonce = self._run_child(
                workdir=home, language="java", limits=limits,
                body=lambda _nonce: os.execve(argv[0], argv, env),
                nonce_on_stdin=True,  # the JVM's launcher reads it before any program code loads
            )
            extra = {"compileMs": round(compile_ms, 3), "durationMs": round(obs.wall_ms + compile_ms, 3)}
            return self._result(obs, nonce, limits, extra)
        finally:
            self._clean(workdir)

    def _run_java_judged(self, request, limits, src, classes, home):
        """The run judged by the Java judge, or None where the tests cannot be judged that way
        (the caller then runs MBXP's single Main.java in the program's JVM)."""
        source = os.path.join(src, "Program.java")
        with open(source, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(request["program"] + "\n")
        os.chmod(source, 0o644)
        try:
            ok, _diagnostics, program_ms, _items, methods = self._analyze(source, classes, limits)
            if not ok:
                return None  # the in-process path reports the compile error as MBXP does
            stub = java_stub.stub(request["program"], methods)
        except (java.CompileTimeout, java.CompilerCrashed, java_stub.NotJudgeable):
            return None
        run_dir = self.java_judge.private_dir(self.compile_uid)
        try:
            tests_src, tests_classes = os.path.join(run_dir, "src"), os.path.join(run_dir, "classes")
            for d in (tests_src, tests_classes):
                os.mkdir(d, 0o700)
                os.chown(d, self.compile_uid, self.compile_uid)
            tests_file = os.path.join(tests_src, "Main.java")
            fd = os.open(tests_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass") as f:
                f.write(stub + "\n" + request["tests"] + "\n")
            os.chown(tests_file, self.compile_uid, self.compile_uid)
            try:
                ok, _diagnostics, tests_ms, _items, _methods = self._analyze(tests_file, tests_classes, limits)
            except (java.CompileTimeout, java.CompilerCrashed):
                return None
            if not ok:
                return None  # the tests use more of the program than its plain static methods
            self.java_judge.hand_over(run_dir)
            compile_ms = program_ms + tests_ms
            argv = self.toolchain.run_argv(limits, home, classes, java.CALLEE_CLASS)
            env = self.toolchain.run_env(home)
            judged = _JavaJudged(self, request["id"], run_dir, tests_classes)
            try:
                obs, nonce = self._run_child(
                    workdir=home, language="java", limits=limits,
                    body=lambda _nonce: os.execve(argv[0], argv, env), judged=judged,
                )
            except java_judge.JudgeBroken as exc:
                self.java_judge.stop()
                return _infra("the Java judge failed: %s" % exc), False
            extra = {"compileMs": round(compile_ms, 3), "durationMs": round(obs.wall_ms + compile_ms, 3)}
            return self._result(obs, nonce, limits, extra)
        finally:
            self._clean(run_dir)

    def run_stdio(self, request):
        """A program run once per case with the case's input on stdin (stdio.py): the cases'
        expected outputs never come here; the driver compares each output outside. Java is
        compiled once for all the cases. Stops at the first case that does not end cleanly."""
        limits = request["limits"]
        inputs = request.get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            return _infra("a stdin/stdout run needs its inputs as a list of strings"), False
        language = request["language"]
        workdir = self._workdir()
        try:
            if language == "python":
                home, compile_ms = workdir, None
                self._own(home, self.uid, 0o700)
                program = request["program"]
                make_body = lambda: (lambda nonce: stdio.run_python(program, nonce))  # noqa: E731
            elif language == "java":
                if self.toolchain is None:
                    return _infra("no JDK (java and javac) found on the sandbox host"), False
                src, classes, home = (os.path.join(workdir, d) for d in ("src", "classes", "home"))
                os.mkdir(src, 0o755)
                os.mkdir(classes)
                self._own(classes, self.compile_uid, 0o755)
                os.mkdir(home)
                self._own(home, self.uid, 0o700)
                main_class = stdio.java_main_class(request["program"])
                source = os.path.join(src, main_class + ".java")
                with open(source, "w", encoding="utf-8", errors="surrogatepass") as f:
                    f.write(request["program"] + "\n")
                os.chmod(source, 0o644)
                started = time.monotonic()
                try:
                    ok, diagnostics, compile_ms = self._compile(source, classes, limits)
                except java.CompileTimeout as exc:
                    return _verdict("timeout", str(exc), started), False
                except java.CompilerCrashed as exc:
                    return _infra("the Java compile server died twice: %s" % exc), False
                if not ok:
                    result = _verdict("compile_error", "javac failed", started)
                    result["stderr"] = diagnostics
                    return result, False
                argv = self.toolchain.run_argv(limits, home, classes, main_class)
                env = self.toolchain.run_env(home)
                make_body = lambda: (lambda _nonce: os.execve(argv[0], argv, env))  # noqa: E731
            else:
                return _infra("unknown language %r" % language), False
            cases = []
            for index, text in enumerate(inputs):
                input_file = os.path.join(workdir, ".input-%d" % index)
                fd = os.open(input_file, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                try:
                    os.write(fd, text.encode("utf-8", "surrogatepass"))  # a regular file: the read never blocks the server
                    os.unlink(input_file)
                    os.lseek(fd, 0, os.SEEK_SET)
                    obs, nonce = self._run_child(workdir=home, language=language, limits=limits, body=make_body(), stdin_fd=fd)
                finally:
                    os.close(fd)
                if obs.driver_gone:
                    return {}, True
                case = stdio.case_result(obs, nonce, limits, language)
                cases.append(case)
                if case["outcome"] != "exited":
                    break
                if obs.leftovers:
                    self.broken = "%d processes of a program could not be killed" % obs.leftovers
                    break
            result = {"outcome": "cases", "cases": cases}
            if compile_ms is not None:
                result["compileMs"] = round(compile_ms, 3)
            return result, False
        finally:
            self._clean(workdir)

    def compile_java(self, request):
        """Compiles a program alone (no tests, nothing run) with -Xlint:all in the confined
        compile server: the grounding stages' evidence (diagnostics, declared methods)."""
        limits = request["limits"]
        if self.toolchain is None:
            return _infra("no JDK (java and javac) found on the sandbox host"), False
        workdir = self._workdir()
        try:
            src, classes = os.path.join(workdir, "src"), os.path.join(workdir, "classes")
            os.mkdir(src, 0o755)
            os.mkdir(classes)
            self._own(classes, self.compile_uid, 0o755)
            source = os.path.join(src, "Main.java")
            with open(source, "w", encoding="utf-8", errors="surrogatepass") as f:
                f.write(request["program"] + "\n")
            os.chmod(source, 0o644)
            started = time.monotonic()
            try:
                ok, diagnostics, compile_ms, items, methods = self._analyze(source, classes, limits)
            except java.CompileTimeout as exc:
                return _verdict("timeout", str(exc), started), False
            except java.CompilerCrashed as exc:
                return _infra("the Java compile server died twice: %s" % exc), False
            result = _verdict("compiled" if ok else "compile_error", "javac accepted the program" if ok else "javac failed", started)
            result.update({"stderr": diagnostics, "items": items, "methods": methods, "compileMs": round(compile_ms, 3)})
            return result, False
        finally:
            self._clean(workdir)

    def _compile(self, source, classes, limits):
        return self._compile_twice(self.toolchain.compile, source, classes, limits)

    def _analyze(self, source, classes, limits):
        return self._compile_twice(self.toolchain.analyze, source, classes, limits)

    @staticmethod
    def _compile_twice(compile_with, source, classes, limits):
        """A dead compile server is restarted once; a second death is the caller's to report."""
        try:
            return compile_with(source, classes, float(limits["cpuMs"]))
        except java.CompilerCrashed:
            return compile_with(source, classes, float(limits["cpuMs"]))

    # -- the request loop ---------------------------------------------------------------------

    def handle(self, request):
        op = request.get("op", "run")
        if op == "ping":
            return {"op": "pong", "id": request.get("id")}, False
        fault = request.get("fault")
        if fault == "server_crash":
            os._exit(70)  # test hook: the driver must notice, restart us and retry
        if fault == "fork_failed":
            return _infra("injected fault: fork failed"), False
        try:
            if op == "stdio":
                return self.run_stdio(request)
            if op == "compile":
                if request["language"] != "java":
                    return _infra("compile-only runs are for Java, not %r" % request["language"]), False
                return self.compile_java(request)
            if request["language"] == "python":
                return self.run_python(request)
            if request["language"] == "java":
                return self.run_java(request)
            return _infra("unknown language %r" % request["language"]), False
        except Exception:  # noqa: BLE001 - whatever broke here is the sandbox's fault, not the program's
            return _infra("sandbox failure: %s" % traceback.format_exc()[-1500:]), False

    def serve(self):
        protocol.write_frame(self.ctrl_out, {"op": "ready", "info": self.info})
        while True:
            request = protocol.read_frame(self.ctrl_in)
            if request is None:
                return
            self.marks = [("start", time.monotonic())]
            response, driver_gone = self.handle(request)
            if driver_gone:
                return
            response["id"] = request.get("id")
            if request.get("profile"):
                profile = {}
                for (_, before), (stage, t) in zip(self.marks, self.marks[1:]):
                    profile[stage] = profile.get(stage, 0.0) + (t - before) * 1000.0
                response["profile"] = {stage: round(ms, 3) for stage, ms in profile.items()}
            if self.cleanup_problems:
                response["cleanupProblems"], self.cleanup_problems = self.cleanup_problems[:5], []
            protocol.write_frame(self.ctrl_out, response)
            if self.broken:
                sys.stderr.write("feedloop sandbox: this server ends: %s\n" % self.broken)
                return


class _PythonJudged:
    """A run judged by the Python judge process (judge_process.py)."""

    def __init__(self, server, run_id):
        self.server, self.run_id = server, run_id
        self.stop_fd = server.judge_sock.fileno()
        self.spare_children_of = server.judge_pid  # its verifier answers once the program is gone

    def open_channel(self, fds, limits):
        ask_r, ask_w = fds.pipe()  # judge -> program
        ans_r, ans_w = fds.pipe()  # program -> judge
        socket_send_fds(self.server.judge_sock, {"op": "run", "id": self.run_id, "limits": limits}, [ask_w, ans_r])
        fds.close(ask_w, ans_r)  # the judge alone holds them: it sees EOF when the program dies
        return ans_w, ask_r

    def await_verdict(self, limits):
        return self.server._await_verdict(self.run_id, limits)


class _JavaJudged:
    """A run judged by the Java judge JVM (java_judge.py)."""

    spare_children_of = None

    def __init__(self, server, run_id, run_dir, tests_classes):
        self.server, self.run_id, self.run_dir, self.tests_classes = server, run_id, run_dir, tests_classes
        self.stop_fd = None

    def open_channel(self, fds, limits):
        ends = self.server.java_judge.open_channel(self.run_id, self.run_dir, self.tests_classes, fds)
        self.stop_fd = self.server.java_judge.stop_fd
        return ends

    def await_verdict(self, limits):
        try:
            return self.server.java_judge.await_verdict(self.run_id, limits)
        except java_judge.JudgeBroken as exc:
            self.server.java_judge.stop()
            return {"status": "judge_failed", "detail": str(exc)}


class _Fds:
    """The descriptors of one run, all closed at its end whatever happened (a long-lived
    server must not leak one per failed fork)."""

    def __init__(self):
        self._open = set()

    def add(self, fd):
        self._open.add(fd)
        return fd

    def pipe(self):
        r, w = os.pipe2(os.O_CLOEXEC)
        return self.add(r), self.add(w)

    def close(self, *fds):
        for fd in fds:
            if fd in self._open:
                self._open.discard(fd)
                os.close(fd)

    def close_all(self):
        self.close(*list(self._open))


def socket_send_fds(sock, message, fds):
    socket.send_fds(sock, [json.dumps(message).encode()], fds)


def _signal_name(sig):
    import signal

    try:
        return signal.Signals(sig).name
    except ValueError:
        return str(sig)


def _infra(detail):
    return {"outcome": "infra_error", "detail": detail, "durationMs": 0, "stdout": "", "stderr": ""}


def _verdict(outcome, detail, started):
    return {"outcome": outcome, "detail": detail, "durationMs": round((time.monotonic() - started) * 1000.0, 3),
            "stdout": "", "stderr": "", "exitCode": None, "signal": None}


def main():
    config = json.loads(sys.argv[1])
    # The driver's pipes move out of the way (fds >= 10, close-on-exec); stray prints go to stderr.
    ctrl_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 10)
    ctrl_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 10)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    try:
        tests_fd = fcntl.fcntl(3, fcntl.F_DUPFD_CLOEXEC, 10)  # the driver's tests pipe: for the judge only
    except OSError:
        tests_fd = None
    os.dup2(devnull, 3)  # keeps fd 3 taken so pipes never land on the fds a child installs
    os.dup2(devnull, 4)
    server = Server(config, ctrl_in, ctrl_out, tests_fd)
    try:
        server.setup()
    except Exception:  # noqa: BLE001
        protocol.write_frame(ctrl_out, {"op": "fatal", "error": traceback.format_exc()[-3000:]})
        sys.exit(1)
    server.serve()
