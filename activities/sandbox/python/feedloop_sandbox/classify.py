"""Turns what the supervisor observed into exactly one outcome, with a one-line reason.

Order matters: limits the supervisor enforced come first (a program killed for CPU time is a
timeout whatever it printed), then the nonce-stamped verdict of the in-process harness, then
the exit status. No "started" event means the sandbox failed before any program code ran:
that, and only that, is an infra_error.
"""
import json
import os
import signal

_MEMORY_SIGNS = ("MemoryError", "Cannot allocate memory", "OutOfMemoryError", "out of memory", "std::bad_alloc")


def parse_report(raw, nonce, pid):
    """(started, verdict) from the report pipe. Only lines with this run's nonce, from the
    program's main process (not a forked copy of it), count."""
    started, verdict = False, None
    for line in bytes(raw).decode("utf-8", "replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict) or event.get("nonce") != nonce or event.get("pid") != pid:
            continue
        if event.get("status") == "started":
            started = True
        elif verdict is None:
            verdict = event
    return started, verdict


def _exit_text(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return "killed by %s" % signal.Signals(sig).name
        except ValueError:
            return "killed by signal %d" % sig
    return "exited with status %d" % os.WEXITSTATUS(status)


def cpu_ms(rusage):
    return (rusage.ru_utime + rusage.ru_stime) * 1000.0


def _run_cpu(obs):
    return max(cpu_ms(obs.rusage), obs.run_cpu_ms or 0.0)


def classify(obs, nonce, pid, limits):
    status = obs.status
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    used_cpu = _run_cpu(obs)
    if obs.killed_for == "output":
        return "output_limit", "stdout+stderr exceeded %d bytes" % limits["outputBytes"]
    if obs.killed_for == "cpu" or sig == signal.SIGXCPU:
        return "timeout", "CPU time limit of %d ms exceeded" % limits["cpuMs"]
    if obs.killed_for == "wall":
        return "timeout", "wall-clock limit of %d ms exceeded (CPU used: %.0f ms)" % (limits["wallMs"], used_cpu)
    started, verdict = parse_report(obs.report, nonce, pid)
    if not started:
        return "infra_error", "the sandbox could not start the program (%s): %s" % (
            _exit_text(status),
            obs.stderr.text()[-300:].strip(),
        )
    if verdict is not None:
        outcome, detail = verdict.get("status"), verdict.get("detail") or ""
        if outcome == "passed":
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                return "passed", "all tests passed"
            return "runtime_error", "the tests passed but the process then %s" % _exit_text(status)
        if outcome in ("failed", "runtime_error", "compile_error", "memory_limit", "output_limit"):
            return outcome, detail
        return "runtime_error", "unexpected verdict %r" % outcome
    if sig == signal.SIGXFSZ:
        return "output_limit", "file size limit of %d MiB exceeded" % limits["fileSizeMb"]
    stderr = obs.stderr.text()
    near_limit = obs.rusage.ru_maxrss * 1024 >= 0.9 * (int(limits["memoryMb"]) << 20) or obs.oom_kills > 0
    if any(s in stderr for s in _MEMORY_SIGNS) or (sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGKILL) and near_limit):
        return "memory_limit", "ran out of memory (limit %d MiB; %s)" % (limits["memoryMb"], _exit_text(status))
    return "runtime_error", "%s before the tests completed" % _exit_text(status)


_JUDGED = ("passed", "failed", "runtime_error", "compile_error", "memory_limit", "output_limit")


def _ended_early(obs, status, limits):
    """The program's process ended (or broke its channel) before the tests completed: read why
    from how it ended. Always an outcome of the program."""
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    if sig == signal.SIGXFSZ:
        return "output_limit", "file size limit of %d MiB exceeded" % limits["fileSizeMb"]
    stderr = obs.stderr.text()
    near_limit = obs.rusage.ru_maxrss * 1024 >= 0.9 * (int(limits["memoryMb"]) << 20) or obs.oom_kills > 0
    if any(s in stderr for s in _MEMORY_SIGNS) or (sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGKILL) and near_limit):
        return "memory_limit", "ran out of memory (limit %d MiB; %s)" % (limits["memoryMb"], _exit_text(status))
    return None


def classify_judged(obs, verdict, limits):
    """The outcome of a run judged by the judge process. The program can end its process, close
    or garble its channel, or stop answering: each is its own outcome (timeout, runtime_error,
    ...), never infra_error. infra_error is left for what it cannot reach: the judge failing, or
    its process failing before any program code ran (no "started")."""
    status = obs.status
    used_cpu = _run_cpu(obs)
    if obs.killed_for == "output":
        return "output_limit", "stdout+stderr exceeded %d bytes" % limits["outputBytes"]
    if obs.killed_for == "cpu" or (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU):
        return "timeout", "CPU time limit of %d ms exceeded" % limits["cpuMs"]
    if obs.killed_for == "wall":
        return "timeout", "wall-clock limit of %d ms exceeded (CPU used: %.0f ms)" % (limits["wallMs"], used_cpu)
    kind = verdict.get("status")
    detail = str(verdict.get("detail") or "")[:1500]
    if kind in _JUDGED:
        return kind, detail
    if kind == "judge_timeout":
        return "timeout", detail
    if kind == "not_started":
        return "infra_error", "the sandbox could not start the program (%s): %s %s" % (
            _exit_text(status), detail, obs.stderr.text()[-300:].strip())
    if kind == "program_gone":
        if obs.oom_kills > 0:
            return "memory_limit", "ran out of memory: the run's memory limit of %d MiB killed a process of it" % limits["memoryMb"]
        early = None if obs.judged_early else _ended_early(obs, status, limits)
        if early:
            return early
        how = "" if obs.judged_early else " (%s)" % _exit_text(status)
        return "runtime_error", "%s%s, before the tests completed" % (detail, how)
    return "infra_error", "the judge failed: %s" % detail
