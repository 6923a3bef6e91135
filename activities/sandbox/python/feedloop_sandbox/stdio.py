"""Programs run on stdin/stdout cases (the competitive-programming format: APPS, CodeContests).

The program runs once per case as `__main__`, with the case's input on stdin; its stdout is
kept whole (up to the output limit) and compared with the expected output by the driver,
outside the sandbox: the expected outputs never come here. This module runs a Python program
in the confined child (`run_python`) and reads how a case's process ended (`case_result`):
`exited` (status 0: its output is then compared), `runtime_error`, `timeout`, `memory_limit`,
`output_limit`, `compile_error`, or `infra_error` (only before any program code ran).
"""
import builtins
import os
import re
import signal
import sys

from . import classify, harness


def run_python(program, nonce):
    """Never returns. `sys.exit(0)` (or None) is a clean end, as for a script; any other exit
    code, or an exception, is the program's runtime error."""
    report = harness.Reporter(nonce)
    del nonce
    report.send("started")
    code = harness._compile(program, harness.PROGRAM_FILE, report)
    del program
    namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": harness.PROGRAM_FILE}
    sys.argv = [harness.PROGRAM_FILE]
    try:
        exec(code, namespace)
    except SystemExit as exc:
        status = 0 if exc.code is None else exc.code if type(exc.code) is int else 1
        if type(exc.code) is not int and exc.code is not None:
            try:
                sys.stderr.write("%s\n" % (exc.code,))
            except BaseException:  # noqa: B902
                pass
        harness._flush_std_streams()
        if status != 0:
            report.send("runtime_error", exception="SystemExit", detail="exited with status %s" % status)
        os._exit(status & 0xFF if status & 0xFF or status == 0 else 1)
    except BaseException as exc:  # noqa: B902
        tb = harness._user_traceback(exc)
        status, detail = harness._classify_exception(exc, tb, "program")
        report.send(status, exception=type(exc).__name__, detail=detail)
        del namespace
        harness._print_traceback(exc, tb)
        harness._flush_std_streams()
        os._exit(1)
    harness._flush_std_streams()
    os._exit(0)


_PUBLIC_CLASS = re.compile(r"^\s*public\s+(?:final\s+|abstract\s+)*class\s+([A-Za-z_$][\w$]*)", re.M)


def java_main_class(program):
    """The class a stdin/stdout Java program runs: its public top-level class (`Main` in the
    competitive-programming datasets; `Solution` and others too), else `Main`."""
    found = _PUBLIC_CLASS.search(program)
    return found.group(1) if found else "Main"


def case_result(obs, nonce, limits, language):
    """How one case's run ended, with its whole stdout when it exited with status 0."""
    status = obs.status
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    result = {
        "durationMs": round(obs.wall_ms, 3),
        "cpuMs": round(max(classify.cpu_ms(obs.rusage), obs.run_cpu_ms or 0.0), 3),
        "maxRssKb": obs.rusage.ru_maxrss,
        "exitCode": exit_code,
        "signal": signal.Signals(sig).name if sig else None,
        "stderr": obs.stderr.text(),
        "stdoutBytes": obs.stdout.total,
    }
    outcome, detail = _outcome(obs, nonce, limits, language, sig, exit_code)
    result["outcome"], result["detail"] = outcome, detail
    if outcome == "exited":
        result["stdout"] = bytes(obs.stdout.all).decode("utf-8", "replace")
    else:
        result["stdoutExcerpt"] = obs.stdout.text()
    return result


def _outcome(obs, nonce, limits, language, sig, exit_code):
    used_cpu = classify._run_cpu(obs)
    if obs.killed_for == "output":
        return "output_limit", "stdout+stderr exceeded %d bytes" % limits["outputBytes"]
    if obs.killed_for == "cpu" or sig == signal.SIGXCPU:
        return "timeout", "CPU time limit of %d ms exceeded" % limits["cpuMs"]
    if obs.killed_for == "wall":
        return "timeout", "wall-clock limit of %d ms exceeded (CPU used: %.0f ms)" % (limits["wallMs"], used_cpu)
    stderr = obs.stderr.text()
    if language == "python":
        started, verdict = classify.parse_report(obs.report, nonce, obs.pid)
        if not started:
            return "infra_error", "the sandbox could not start the program: %s" % stderr[-300:].strip()
    else:
        # The JVM runs Main directly (its stdin is the case's): only our own start failure
        # (status 121 with the sandbox's message, before exec) is not the program's.
        verdict = None
        if exit_code == 121 and "feedloop sandbox: could not start the program" in stderr:
            return "infra_error", "the sandbox could not start the program: %s" % stderr[-300:].strip()
    if exit_code == 0:
        return "exited", "exited with status 0"
    if sig == signal.SIGXFSZ:
        return "output_limit", "file size limit of %d MiB exceeded" % limits["fileSizeMb"]
    near_limit = obs.rusage.ru_maxrss * 1024 >= 0.9 * (int(limits["memoryMb"]) << 20) or obs.oom_kills > 0
    if any(s in stderr for s in classify._MEMORY_SIGNS) or (sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGKILL) and near_limit):
        return "memory_limit", "ran out of memory (limit %d MiB)" % limits["memoryMb"]
    if verdict is not None and verdict.get("status") in ("compile_error", "memory_limit", "output_limit", "runtime_error"):
        return verdict["status"], str(verdict.get("detail") or "")[:1500]
    what = "killed by %s" % signal.Signals(sig).name if sig else "exited with status %s" % exit_code
    return "runtime_error", what
