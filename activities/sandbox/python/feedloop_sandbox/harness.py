"""Runs one Python program and its tests inside the confined child, and reports the verdict.

The verdict goes to fd 3 as JSON lines stamped with a per-run nonce, so nothing the program
prints can pass for it. "passed" is written only after the last test statement returned: a
program that exits early (sys.exit, os._exit, a signal) never gets it.
"""
import builtins
import errno
import json
import linecache
import os
import sys
import traceback

PROGRAM_FILE = "program.py"
TESTS_FILE = "tests.py"
REPORT_FD = 3
_MAX_TEXT = 1500


class Reporter:
    def __init__(self, nonce):
        self._nonce = nonce
        self._pid = os.getpid()

    def send(self, status, **fields):
        if os.getpid() != self._pid:
            return  # a forked copy of the program finishing its copy of the harness: not the verdict
        if fields:
            fields = {k: (v[:_MAX_TEXT] if isinstance(v, str) else v) for k, v in fields.items()}
            line = json.dumps(dict(fields, nonce=self._nonce, status=status, pid=self._pid)) + "\n"
        else:
            # Without json: its first use in a fresh child costs ~0.3 ms (copy-on-write faults).
            line = '{"nonce":"%s","status":"%s","pid":%d}\n' % (self._nonce, status, self._pid)
        try:
            os.write(REPORT_FD, line.encode("utf-8", "replace")[:4000])  # < PIPE_BUF: one atomic write
        except OSError:
            pass


def _user_traceback(exc):
    """The traceback from the first frame of program or tests code (harness frames dropped)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename not in (PROGRAM_FILE, TESTS_FILE):
        tb = tb.tb_next
    return tb


def _last_frame(tb):
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    return last


def _describe(exc):
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return type(exc).__name__, text


def _print_traceback(exc, tb):
    try:
        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, tb)))
    except BaseException:
        try:
            os.write(2, ("%s\n" % type(exc).__name__).encode())
        except OSError:
            pass


def _flush_std_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _compile(source, filename, report):
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
        # ValueError: NUL bytes in the source; RecursionError/MemoryError: a pathological nesting depth
        name, text = _describe(exc)
        what = "the program does" if filename == PROGRAM_FILE else "the tests do"
        report.send("compile_error", exception=name, detail="%s not compile: %s" % (what, text))
        sys.stderr.write("".join(traceback.format_exception_only(type(exc), exc)))
        _flush_std_streams()
        os._exit(1)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return code


def _classify_exception(exc, tb, phase):
    """(status, detail) for an exception that escaped the program or its tests."""
    name, text = _describe(exc)
    last = _last_frame(tb)
    where = "%s line %d" % (last.tb_frame.f_code.co_filename, last.tb_lineno) if last else phase
    if isinstance(exc, SystemExit):
        return "runtime_error", "exited (%s) during the %s, before the tests completed" % (text or "SystemExit", phase)
    if isinstance(exc, AssertionError) and last is not None and last.tb_frame.f_code.co_filename == TESTS_FILE:
        statement = linecache.getline(TESTS_FILE, last.tb_lineno).strip()
        return "failed", "assertion failed at %s: %s" % (where, statement or text)
    if isinstance(exc, MemoryError) or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM):
        return "memory_limit", "MemoryError at %s" % where
    if isinstance(exc, OSError) and exc.errno in (errno.EFBIG, errno.ENOSPC):
        return "output_limit", "%s at %s (file size or work-dir space limit)" % (text, where)
    return "runtime_error", "%s at %s" % (text, where)


def run(program, tests, nonce):
    """Never returns: the child ends with os._exit so no user atexit hook or thread runs after the verdict."""
    report = Reporter(nonce)
    del nonce
    report.send("started")
    program_code = _compile(program, PROGRAM_FILE, report)
    tests_code = _compile(tests, TESTS_FILE, report)
    del program, tests
    namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": PROGRAM_FILE}
    sys.argv = [PROGRAM_FILE]
    phase = "program"
    try:
        exec(program_code, namespace)
        phase = "tests"
        exec(tests_code, namespace)
    except BaseException as exc:  # noqa: B902 - SystemExit and KeyboardInterrupt are verdicts too
        tb = _user_traceback(exc)
        status, detail = _classify_exception(exc, tb, phase)
        report.send(status, exception=type(exc).__name__, detail=detail)
        del namespace  # frees what a memory bomb held before formatting the traceback
        if not isinstance(exc, SystemExit):
            _print_traceback(exc, tb)
        _flush_std_streams()
        os._exit(1)
    _flush_std_streams()
    report.send("passed")
    os._exit(0)
