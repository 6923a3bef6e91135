"""Java verdicts outside the program's JVM: the warm judge JVM (FeedloopJudge) and its runs.

Per run: the program is compiled alone (its declared methods read from javac's model), MBXP's
Main is compiled with a stub of the program (java_stub) into a directory only the judge's uid
can read, and the judge JVM runs Main with every call of the program's methods answered by the
program's own JVM (FeedloopCallee) over a channel of two FIFOs. The tests' source and Main.class
never exist where the program's uid can read them, and the verdict is the judge's.
"""
import json
import os
import select
import time

from . import spawn

OPEN_TIMEOUT_S = 10.0
VERDICT_GRACE_S = 5.0


class JudgeBroken(Exception):
    pass


class JavaJudge:
    def __init__(self, toolchain, uid, work_root):
        self._toolchain = toolchain
        self._uid = uid
        self._root = work_root
        self._jvm = None
        self._buffer = b""
        self._runs = 0

    # -- the run's private directory -------------------------------------------------------------

    def private_dir(self, owner_uid):
        """A fresh directory only owner_uid (the compile server's, then the judge's) can enter."""
        self._runs += 1
        path = os.path.join(self._root, "judge-%d" % self._runs)
        os.mkdir(path, 0o700)
        os.chown(path, owner_uid, owner_uid)
        return path

    def hand_over(self, path):
        """Gives the compiled tests to the judge's uid (the compile server no longer reads them)."""
        for root, dirs, names in os.walk(path):
            os.chown(root, self._uid, self._uid)
            for name in dirs + names:
                os.chown(os.path.join(root, name), self._uid, self._uid, follow_symlinks=False)

    # -- the judge JVM -----------------------------------------------------------------------------

    def _ensure(self):
        if self._jvm is None or not spawn.alive(self._jvm["pid"]):
            self.stop()
            self._jvm = self._toolchain.start_helper(self._uid, "FeedloopJudge", "judge-home", ["-XX:TieredStopAtLevel=1"])
            self._buffer = b""
        return self._jvm

    def stop(self):
        if self._jvm is not None:
            jvm, self._jvm = self._jvm, None
            self._toolchain.stop_helper(jvm)

    @property
    def stop_fd(self):
        """Readable when the judge has a verdict (or died)."""
        return self._jvm["stdout"]

    def _line(self, deadline):
        fd = self._jvm["stdout"]
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise JudgeBroken("the Java judge did not answer in time")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise JudgeBroken("the Java judge exited")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line.decode("utf-8", "replace"))
        except ValueError:
            raise JudgeBroken("the Java judge answered garbage")

    def open_channel(self, run_id, run_dir, classes_dir, fds):
        """The program's ends of the run's channel (answers out, requests in), once the judge
        holds its own ends. fds: the run's descriptor set (closed at its end)."""
        jvm = self._ensure()
        ask, answers = os.path.join(run_dir, "to-program"), os.path.join(run_dir, "from-program")
        for path in (ask, answers):
            os.mkfifo(path, 0o600)
            os.chown(path, self._uid, self._uid)
        # Opened here first, so that neither open blocks: the program's read end of its
        # requests, and a read-write end of its answers (the judge's read end then has a writer).
        ask_r = fds.add(os.open(ask, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC))
        os.set_blocking(ask_r, True)
        answers_w = fds.add(os.open(answers, os.O_RDWR | os.O_CLOEXEC))
        try:
            os.write(jvm["stdin"], ("%d\t%s\t%s\t%s\n" % (run_id, classes_dir, ask, answers)).encode())
            reply = self._line(time.monotonic() + OPEN_TIMEOUT_S)
        except OSError as exc:
            raise JudgeBroken("the Java judge is gone (%s)" % exc)
        finally:
            os.unlink(ask)
            os.unlink(answers)
        if reply.get("op") != "opened" or reply.get("id") != run_id:
            raise JudgeBroken("the Java judge answered %r" % str(reply)[:200])
        return answers_w, ask_r

    def await_verdict(self, run_id, limits):
        deadline = time.monotonic() + float(limits["wallMs"]) / 1000.0 + VERDICT_GRACE_S
        while True:
            reply = self._line(deadline)
            if reply.get("op") == "verdict" and reply.get("id") == run_id:
                return reply
