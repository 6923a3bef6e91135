"""The trusted side of a judged run: runs the tests, with the program's functions as remote calls.

The judge runs in its own process, under a uid of its own, forked from a process that never
held a program. It executes the tests' code itself; every name the tests take from the program
(the function under test, a helper, a constant) is bound to a stub that asks the program's
process to make the call and decodes the plain value that comes back (values.decode). So the
comparisons, the builtins and library functions the tests use (`==`, `set`, `math.isclose`)
are the judge's own, the expected values never leave this process, and the tests' source is
never in the program's process.

Where the tests need more than plain values (they construct the program's objects, or a
result is a generator), the verdict is "unjudgeable" and the server falls back to running
the tests in the program's process, recording that the verdict was checked in-process.
"""
import ast
import builtins
import errno
import importlib
import linecache
import os
import sys
import types

from . import channel, values

TESTS_FILE = "tests.py"
_MUTABLE = (list, dict, set, bytearray)


class ProgramGone(Exception):
    """The program's process stopped answering: it exited, closed or corrupted the channel."""


class Unjudgeable(Exception):
    """The tests need something that is not a plain value; only an in-process run can judge them."""


class ProgramRaised(Exception):
    """Mixed into the exceptions re-raised here for the program: they are its runtime errors."""


class ProgramExited(BaseException):
    """The program raised SystemExit (or another BaseException) during a call."""

    def __init__(self, info):
        super().__init__(info.get("text", "SystemExit"))
        self.info = info


def _exception_class(info):
    name = info.get("type") if isinstance(info.get("type"), str) else "Exception"
    bases = [b for b in info.get("bases", []) if isinstance(b, str)]
    base = None
    for candidate in ([name] if info.get("builtin") else []) + bases:
        cls = getattr(builtins, candidate, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            base = cls
            break
    if base is not None and not issubclass(base, Exception):
        return None
    if base is None or base is Exception:  # ProgramRaised is an Exception: (Exception, ProgramRaised) has no MRO
        return type(name[:100] or "Exception", (ProgramRaised,), {})
    try:
        return type(name[:100] or "Exception", (base, ProgramRaised), {})
    except TypeError:  # incompatible layouts
        return type(name[:100] or "Exception", (ProgramRaised,), {})


def _exception_stand_in(name, builtin_bases, mro, known):
    """The judge's stand-in for an exception class of the program the tests name: a subclass of
    the stand-ins of its program-defined ancestors the tests also name (an `except BankError:`
    catches the program's InsufficientFunds), else of its builtin base; never of an
    AssertionError the judge would count as a test failure (ProgramRaised is checked first)."""
    ancestors = [known[n] for n in mro[1:] if isinstance(n, str) and n in known]
    if ancestors:
        return type(name[:100], (ancestors[0],), {})
    base = _exception_class({"type": "Exception", "bases": [b for b in builtin_bases if isinstance(b, str)]})
    return type(name[:100], (base,), {}) if base is not None else type(name[:100], (ProgramRaised,), {})


def clean_info(info):
    """The program's description of an exception, with every field of the type it should have."""
    text = lambda v: v[:1500] if isinstance(v, str) else None  # noqa: E731
    return {
        "type": text(info.get("type")) or "Exception",
        "builtin": info.get("builtin") is True,
        "bases": [b[:100] for b in info.get("bases", [])[:8] if isinstance(b, str)] if isinstance(info.get("bases"), list) else [],
        "text": text(info.get("text")) or "",
        "where": text(info.get("where")),
        "errno": info.get("errno") if type(info.get("errno")) is int else None,
        "mro": [b[:100] for b in info.get("mro", [])[:16] if isinstance(b, str)] if isinstance(info.get("mro"), list) else [],
    }


def program_exception(info, known=None):
    """The program's exception, re-raised here. `known` maps the names of the program's own
    exception classes the tests name (`except InsufficientFunds:`) to the judge's stand-ins: an
    exception whose class derives from one of them is raised as a subclass of that stand-in."""
    info = clean_info(info)
    cls = _exception_class(info)
    for name in info["mro"] if known and cls is not None else ():
        if name in known:
            cls = known[name] if name == info["type"] else type(info["type"][:100] or "Exception", (known[name],), {})
            break
    if cls is None:
        return ProgramExited(info)
    try:
        exc = cls(info.get("text", ""))
    except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError wants five arguments
        exc = type(cls.__name__, (Exception, ProgramRaised), {})(info.get("text", ""))
    exc.info = info
    return exc


class Program:
    """The program's process as the judge sees it: requests out, plain values (or handles) in."""

    def __init__(self, fd_out, fd_in):
        self._out, self._in = fd_out, fd_in
        self.calls = 0
        self.remotes = {}  # handle -> RemoteObject: the same program object is the same object here
        self.exceptions = {}  # the program's exception classes the tests name -> stand-ins
        self.namespace = None
        self.bound = {}  # the program's globals the tests read as values -> the object bound
        self.streams = (sys.stdout, sys.stderr)

    def ask(self, message):
        try:
            channel.send(self._out, message)
            return channel.receive(self._in)
        except channel.ChannelBroken as exc:
            raise ProgramGone(str(exc))

    def receive(self):
        return channel.receive(self._in)

    def tell_done(self):
        try:
            channel.send(self._out, {"op": "done"})
        except channel.ChannelBroken:
            pass

    def encode(self, obj, what):
        try:
            return values.encode(obj, opaque=_encode_special)
        except values.Unencodable as exc:
            raise Unjudgeable("the tests pass %s a value that is not plain data (%s)" % (what, exc))

    def decode(self, data, what, args=None):
        special = self._special if args is None else (lambda tag, d: self._special(tag, d, args))
        try:
            return values.decode(data, special=special)
        except values.BadValue as exc:
            raise ProgramGone("the program sent a malformed %s: %s" % (what, exc))
        except RecursionError:
            raise ProgramGone("the program sent a malformed %s: nested too deep" % what)

    def _special(self, tag, data, args=None):
        if tag == "h" and len(data) == 3 and type(data[1]) is int and type(data[2]) is str:
            if data[1] not in self.remotes:
                self.remotes[data[1]] = RemoteObject(self, data[1], data[2][:100])
            return self.remotes[data[1]]
        if tag == "A" and args is not None and len(data) == 2 and type(data[1]) is int and 0 <= data[1] < len(args):
            return args[data[1]]  # the tests' own argument, which the program returned
        raise values.BadValue("unexpected %r value" % tag)

    def remote(self, message, what):
        """One request about a program object; its plain answer, or its exception re-raised here."""
        self.calls += 1
        capture = [key for key, stream, original in zip(("out", "err"), (sys.stdout, sys.stderr), self.streams) if stream is not original]
        if capture:
            message["capture"] = capture
        reply = self.ask(message)
        self._captured(reply, capture)
        self._globals(reply.get("globals"))
        op = reply.get("op")
        if op == "return":
            return reply
        if op == "stop":
            raise StopIteration
        if op == "raised" and isinstance(reply.get("exc"), dict):
            raise program_exception(reply["exc"], self.exceptions)
        raise ProgramGone("the program answered a request about %s with %r" % (what, str(op)[:50]))

    def _captured(self, reply, capture):
        """What the program printed while the tests redirect the judge's sys.stdout/stderr goes
        where they redirect it (contextlib.redirect_stdout), as in a plain harness."""
        for key, stream in (("out", sys.stdout), ("err", sys.stderr)):
            text = reply.get(key)
            if key in capture and isinstance(text, str) and text:
                stream.write(text)

    def _globals(self, changed):
        """The program's globals the tests read changed during the call: the tests see the new value."""
        if not changed:
            return
        if not isinstance(changed, dict) or self.namespace is None:
            raise ProgramGone("the program sent a malformed answer")
        for name, data in changed.items():
            if name not in self.bound:
                raise ProgramGone("the program sent a malformed answer")
            if self.namespace.get(name) is not self.bound[name]:
                continue  # the tests rebound the name: theirs now
            value, old = self.decode(data, "value"), self.bound[name]
            if type(old) is type(value) and type(old) in _MUTABLE:
                _update_in_place(old, value)
            else:
                self.namespace[name] = self.bound[name] = value

    def call(self, target, what, args, kwargs):
        encoded = [self.encode(a, what) for a in args]
        encoded_kw = [[str(k), self.encode(v, what)] for k, v in kwargs.items()]
        watch = [i for i, a in enumerate(args) if type(a) in _MUTABLE]
        reply = self.remote(dict(target, op="call", args=encoded, kwargs=encoded_kw, watch=watch), what)
        changed = reply.get("changed") or {}
        if not isinstance(changed, dict):
            raise ProgramGone("the program sent a malformed answer")
        for key, data in changed.items():
            if not (isinstance(key, str) and key.isdigit() and int(key) in watch):
                raise ProgramGone("the program sent a malformed answer")
            _update_in_place(args[int(key)], self.decode(data, "argument"))
        return self.decode(reply.get("value"), "result", args=list(args))


def _encode_special(obj):
    if isinstance(obj, RemoteObject):
        return ["h", object.__getattribute__(obj, "_handle")]
    if isinstance(obj, (RemoteFunction, RemoteClass)):
        return ["N", obj.__name__]  # the program's own function or class, by name
    if isinstance(obj, type) and getattr(builtins, getattr(obj, "__name__", ""), None) is obj:
        return ["T", obj.__name__]
    raise values.Unencodable("a %s is not a plain value" % type(obj).__name__)


class RemoteFunction:
    """Stands for a function (or class, or any callable) of the program in the tests' namespace."""

    def __init__(self, program, name):
        self._program = program
        self.__name__ = self.__qualname__ = name

    def __repr__(self):
        return "<program function %s>" % self.__name__

    def __call__(self, *args, **kwargs):
        return self._program.call({"name": self.__name__}, self.__name__, args, kwargs)


class RemoteClass(type):
    """Stands for a class of the program: calling it builds an object in the program's process
    (a RemoteObject here); `isinstance(x, Cls)` and its class attributes (`Color.RED`, a static
    method) are requests to the program."""

    def __new__(mcs, program, name):
        cls = super().__new__(mcs, name, (), {"__slots__": ()})
        type.__setattr__(cls, "_program", program)
        return cls

    def __init__(cls, program, name):
        super().__init__(name, (), {})

    def __call__(cls, *args, **kwargs):
        return cls._program.call({"name": cls.__name__}, cls.__name__, args, kwargs)

    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        program = type.__getattribute__(cls, "_program")
        reply = program.remote({"op": "getattr", "name": cls.__name__, "attr": attr}, "the program's class %s" % cls.__name__)
        return program.decode(reply.get("value"), "attribute")

    def __instancecheck__(cls, obj):
        if not isinstance(obj, RemoteObject):
            return False  # the tests' own values are never the program's class
        return obj._protocol("isinstance", cls) is True

    def __subclasscheck__(cls, sub):
        return sub is cls

    def __repr__(cls):
        return "<program class %s>" % cls.__name__


class RemoteObject:
    """An object of the program the tests hold (a Node they build, a generator): its attributes,
    calls and iteration are requests to the program's process, answered with plain values. It
    has no value of its own: comparing it or asking its truth is a TypeError (a runtime error),
    so a program cannot pass by returning an object that claims to equal anything."""

    __slots__ = ("_program", "_handle", "_type")

    def __init__(self, program, handle, type_name):
        object.__setattr__(self, "_program", program)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_type", type_name)

    def _ask(self, op, **fields):
        program = object.__getattribute__(self, "_program")
        return program, program.remote(dict(fields, op=op, handle=["h", object.__getattribute__(self, "_handle")]), self._what())

    def _what(self):
        return "a %s of the program" % object.__getattribute__(self, "_type")

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        program, reply = self._ask("getattr", attr=attr)
        return program.decode(reply.get("value"), "attribute")

    def __setattr__(self, attr, value):
        program = object.__getattribute__(self, "_program")
        self._ask("setattr", attr=attr, value=program.encode(value, self._what()))

    def __call__(self, *args, **kwargs):
        program = object.__getattribute__(self, "_program")
        return program.call({"handle": ["h", object.__getattribute__(self, "_handle")]}, self._what(), args, kwargs)

    def __iter__(self):
        program, reply = self._ask("iter")
        return _RemoteIterator(program.decode(reply.get("value"), "iterator"))

    def __next__(self):
        program, reply = self._ask("next")
        return program.decode(reply.get("value"), "item")

    def _protocol(self, name, *args):
        """`len(obj)`, `x in obj`, `obj[i]`, `str(obj)`, `a < b`...: the program's own method
        answers in its process, with a plain value (or a handle), as in a plain harness."""
        program = object.__getattribute__(self, "_program")
        encoded = [program.encode(a, self._what()) for a in args]
        _, reply = self._ask("protocol", name=name, args=encoded)
        return program.decode(reply.get("value"), name)

    def _compare(self, name, other):
        # Two of the program's objects: the program compares them. An object of the program and
        # a value of the tests (an expected value): never the program's code. A class with the
        # default equality answers by identity here (never equal); any other comparison with a
        # value of the tests is a TypeError, so an object claiming to equal anything cannot pass.
        if isinstance(other, RemoteObject):
            return self._protocol(name, other)
        if name in ("eq", "ne") and self._protocol("defaulteq") is True:
            return name == "ne"
        raise TypeError("%s is not a plain value: it cannot be compared with the tests' values" % self._what())

    def __eq__(self, other):
        return self._compare("eq", other)

    def __ne__(self, other):
        return self._compare("ne", other)

    def __lt__(self, other):
        return self._compare("lt", other)

    def __le__(self, other):
        return self._compare("le", other)

    def __gt__(self, other):
        return self._compare("gt", other)

    def __ge__(self, other):
        return self._compare("ge", other)

    def __hash__(self):
        # The program's own hash (a frozen dataclass as a dict key): equal objects find each other.
        value = self._protocol("hash")
        if type(value) is not int:
            raise ProgramGone("the program's hash is not an int")
        return value

    def __bool__(self):
        value = self._protocol("bool")
        if type(value) is not bool:
            raise ProgramGone("the program's truth value is not a bool")
        return value

    def __repr__(self):
        return self._protocol("repr")

    def __str__(self):
        return self._protocol("str")

    def __format__(self, spec):
        return self._protocol("format", spec)

    def __enter__(self):
        return self._protocol("enter")

    def __exit__(self, *exc):
        return self._protocol("exit", None, None, None) if exc[0] is None else None


def _protocol_method(name):
    def method(self, *args):
        return self._protocol(name, *args)

    method.__name__ = "__%s__" % name
    return method


def _operator_method(name):
    # Arithmetic between two of the program's objects (Vec + Vec) is the program's. With a value
    # of the tests it is not judged: `abs(result - expected) < tol` would hand the expected value
    # to the program's code, which could answer 0 whatever it holds.
    def method(self, other):
        if isinstance(other, RemoteObject):
            return self._protocol(name, other)
        raise TypeError("%s is not a plain value: arithmetic with the tests' values is not judged" % self._what())

    method.__name__ = "__%s__" % name
    return method


def _contains(self, item):
    """`x in obj`: an iterable object of the program is iterated, and its items compared with x
    by the judge (as Python does without __contains__), so a container claiming to hold anything
    cannot pass; only a container that cannot be iterated (a trie) answers itself, as a method
    `contains(x)` the tests call would."""
    if isinstance(item, RemoteObject):
        return self._protocol("contains", item) is True
    members = self._protocol("members")
    if members == "iterator":
        return any(x is item or x == item for x in _RemoteIterator(self))
    if isinstance(members, list):
        return any(x is item or x == item for x in members)
    answer = self._protocol("contains", item)
    if type(answer) is not bool:
        raise ProgramGone("the program's membership answer is not a bool")
    return answer


RemoteObject.__contains__ = _contains
for _name in ("len", "getitem", "setitem", "delitem", "int", "float", "index", "complex", "neg", "pos", "abs", "invert"):
    setattr(RemoteObject, "__%s__" % _name, _protocol_method(_name))
for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift", "rshift"):
    setattr(RemoteObject, "__%s__" % _name, _operator_method(_name))
    setattr(RemoteObject, "__r%s__" % _name, _operator_method("r" + _name))
del _name


class _RemoteIterator:
    def __init__(self, remote):
        self._remote = remote

    def __iter__(self):
        return self

    def __next__(self):
        if not isinstance(self._remote, RemoteObject):
            raise ProgramGone("the program's iterator is not an object")
        return next(self._remote)


def _update_in_place(target, value):
    """The program mutated an argument (as some tests check): the tests' object changes likewise."""
    if type(value) is not type(target):
        raise ProgramGone("the program changed an argument's type")
    if type(target) is list and len(target) == len(value):
        # element by element, so the lists and dicts the argument holds stay the tests' own
        for i, item in enumerate(value):
            if type(item) is type(target[i]) and type(item) in _MUTABLE:
                _update_in_place(target[i], item)
            else:
                target[i] = item
    elif isinstance(target, (list, bytearray)):
        target[:] = value
    elif type(target) is dict:
        for key in [k for k in target if k not in value]:
            del target[key]
        for key, item in value.items():
            if key in target and type(item) is type(target[key]) and type(item) in _MUTABLE:
                _update_in_place(target[key], item)
            else:
                target[key] = item
    else:
        target.clear()
        target.update(value)


def _bound_names(tree):
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound


def program_names(tree):
    """Names the tests take from the program's globals. A builtin the program redefines is the
    program's only where the tests call it directly on values of their own (MBPP 126 tests a
    function named `sum`), never on the expected side of a comparison nor on another program
    result: so a program's own `set`, `len` or `abs` can neither be handed the expected value
    to echo back nor turn a wrong result into the expected one."""
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    names = loaded - _bound_names(tree) - {"__builtins__"}
    plain = {n for n in names if not hasattr(builtins, n)}
    expected_side = set()
    direct = {}  # builtin name -> every use is NAME(args naming no program name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in node.comparators:
                expected_side |= {n.id for n in ast.walk(side) if isinstance(n, ast.Name)}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names - plain:
            inner = {n.id for arg in node.args + [k.value for k in node.keywords] for n in ast.walk(arg) if isinstance(n, ast.Name)}
            direct.setdefault(node.func.id, []).append(not (inner & names))
    uses = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names - plain:
            uses[node.id] = uses.get(node.id, 0) + 1
    shadowing = {
        n for n in names - plain
        if n not in expected_side and all(direct.get(n, [False])) and len(direct.get(n, [])) == uses.get(n, 0)
    }
    return sorted(plain | shadowing)


_NOT_IMPORTED = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "pydoc", "webbrowser", "ensurepip", "venv", "lib2to3"}


def _importable(module):
    top = module.split(".")[0]
    return top in sys.stdlib_module_names and top not in _NOT_IMPORTED and "__main__" not in module and len(module) < 100


def _last_tests_line(tb):
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TESTS_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _tests_traceback(exc):
    """The traceback through the tests' own frames, for the run's stderr (the host's copy only)."""
    import traceback

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != TESTS_FILE:
        tb = tb.tb_next
    try:
        return "".join(traceback.format_exception(type(exc), exc, tb))[-3000:]
    except Exception:  # noqa: BLE001
        return ""


def _unittest_result(exc):
    """(tests run, all passed) when the exit came from unittest.main() after running the tests' TestCases."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename.endswith(os.path.join("unittest", "main.py")) and frame.f_code.co_name == "runTests":
            result = getattr(frame.f_locals.get("self"), "result", None)
            if result is not None and type(getattr(result, "testsRun", None)) is int:
                return result.testsRun, bool(result.wasSuccessful())
        tb = tb.tb_next
    return None


def _program_verdict(info, phase):
    text = info.get("text") or info.get("type") or "an exception"
    where = info.get("where") or ("the " + phase)
    bases = info.get("bases") or []
    if "MemoryError" in bases or ("OSError" in bases and info.get("errno") == errno.ENOMEM):
        return {"status": "memory_limit", "detail": "MemoryError at %s" % where}
    if "OSError" in bases and info.get("errno") in (errno.EFBIG, errno.ENOSPC):
        return {"status": "output_limit", "detail": "%s at %s (file size or work-dir space limit)" % (text, where)}
    if not ("Exception" in bases):
        return {"status": "runtime_error", "detail": "exited (%s) during the %s, before the tests completed" % (text, phase)}
    return {"status": "runtime_error", "detail": "%s at %s" % (text, where), "exception": info.get("type")}


def _start(program):
    """Waits for the program's process to load the program: None when it is ready, else a verdict."""
    try:
        first = program.receive()
    except channel.ChannelBroken as exc:
        return {"status": "not_started", "detail": str(exc)}
    if first.get("op") != "started":
        return {"status": "not_started", "detail": "the program's process did not start properly"}
    try:
        loaded = program.receive()
    except channel.ChannelBroken as exc:
        return {"status": "program_gone", "detail": "the program's process stopped while loading the program (%s)" % exc}
    op = loaded.get("op")
    if op == "loaded":
        return None
    if op == "compile_error":
        return {"status": "compile_error", "detail": str(loaded.get("detail"))[:1500]}
    if op == "raised" and isinstance(loaded.get("exc"), dict):
        return _program_verdict(clean_info(loaded["exc"]), "program")
    return {"status": "program_gone", "detail": "the program's process sent %r while loading" % str(op)[:50]}


def _in_process(tests, program, why):
    """Runs the tests in the program's process (see callee._in_process): the verdict is then
    only as good as the harness there; `inProcess` says so."""
    nonce = os.urandom(16).hex()
    try:
        reply = program.ask({"op": "inprocess", "tests": tests, "nonce": nonce})
    except ProgramGone as exc:
        return {"status": "program_gone", "detail": str(exc), "inProcess": True}
    status = reply.get("status")
    if reply.get("op") != "verdict" or reply.get("nonce") != nonce or status not in _IN_PROCESS_STATUSES:
        return {"status": "program_gone", "detail": "the program's process sent a malformed verdict", "inProcess": True}
    detail = "%s (checked in the program's process: %s)" % (str(reply.get("detail"))[:1500], why)
    return {"status": status, "detail": detail, "inProcess": True}


_IN_PROCESS_STATUSES = ("passed", "failed", "runtime_error", "compile_error", "memory_limit", "output_limit")


def judge(tests, fd_to_program, fd_from_program):
    """Runs `tests` against the program in the other process; returns the verdict as a dict."""
    program = Program(fd_to_program, fd_from_program)
    verdict = _start(program)
    if verdict is not None:
        return verdict
    try:
        return _run_tests(tests, program)
    except Exception as exc:  # noqa: BLE001 - after "started", only the program's answers reach here
        return {"status": "program_gone", "detail": "the program's answers broke the judge's reading of them (%s)" % type(exc).__name__}
    finally:
        program.tell_done()


def _run_tests(tests, program):
    try:
        tree = ast.parse(tests, TESTS_FILE)
        code = compile(tree, TESTS_FILE, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
        return {"status": "compile_error", "detail": "the tests do not compile: %s" % exc}
    linecache.cache[TESTS_FILE] = (len(tests), None, tests.splitlines(True), TESTS_FILE)
    # The tests run as the __main__ module, as a script does: unittest.main() finds their TestCases.
    module = types.ModuleType("__main__")
    namespace = module.__dict__
    namespace.update({"__builtins__": builtins, "__file__": TESTS_FILE})
    sys.modules["__main__"] = module
    program.namespace = namespace
    sys.argv = [TESTS_FILE]  # what unittest.main() parses
    try:
        names = program_names(tree)
        if names:
            found = program.ask({"op": "names", "names": names})
            if found.get("op") != "names" or not isinstance(found.get("found"), dict):
                raise ProgramGone("the program's process answered the names request with garbage")
            exception_classes = {}
            for name, kind in found["found"].items():
                if name not in names or not isinstance(kind, list) or not kind:
                    raise ProgramGone("the program's process answered the names request with garbage")
                if kind[0] == "callable":
                    namespace[name] = RemoteFunction(program, name)
                elif kind[0] == "class" and len(kind) == 1:
                    namespace[name] = RemoteClass(program, name)
                elif kind[0] == "exception" and len(kind) == 3 and isinstance(kind[1], list) and isinstance(kind[2], list):
                    exception_classes[name] = kind
                elif kind[0] == "module" and len(kind) == 2 and isinstance(kind[1], str):
                    # The judge's own copy of the module (a program's patched `math` stays its own);
                    # only standard modules whose import runs nothing surprising.
                    if _importable(kind[1]):
                        try:
                            namespace[name] = importlib.import_module(kind[1])
                        except Exception:  # noqa: BLE001 - not importable here: the tests get a NameError
                            pass
                elif kind[0] == "value" and len(kind) == 2:
                    namespace[name] = program.bound[name] = program.decode(kind[1], "value")
                else:
                    raise ProgramGone("the program's process answered the names request with garbage")
            # ancestors first, so that each stand-in derives from its ancestors' stand-ins
            for name, kind in sorted(exception_classes.items(), key=lambda item: len(item[1][2])):
                namespace[name] = program.exceptions[name] = _exception_stand_in(name, kind[1], kind[2], program.exceptions)
        exec(code, namespace)
    except Unjudgeable as exc:
        return _in_process(tests, program, str(exc))
    except ProgramGone as exc:
        return {"status": "program_gone", "detail": str(exc)}
    except ProgramExited as exc:
        return _program_verdict(exc.info, "tests")
    except ProgramRaised as exc:
        return _program_verdict(exc.info, "tests")
    except AssertionError as exc:
        line = _last_tests_line(exc.__traceback__)
        statement = linecache.getline(TESTS_FILE, line).strip() if line else ""
        return {"status": "failed", "detail": "assertion failed at %s line %s: %s" % (TESTS_FILE, line, statement or exc),
                "evidence": _tests_traceback(exc)}
    except MemoryError:
        return {"status": "runtime_error", "detail": "the tests ran out of memory on the program's results"}
    except BaseException as exc:  # noqa: B902 - the tests' own errors on the program's results
        line = _last_tests_line(exc.__traceback__)
        text = "%s: %s" % (type(exc).__name__, str(exc)[:500])
        if isinstance(exc, SystemExit):
            # unittest.main() ends the tests with an exit: its result decides (a program's
            # SystemExit never gets here: ProgramExited, above). Any other exit of the tests is
            # before they completed: never passed.
            ran = _unittest_result(exc)
            if ran is not None:
                runs, ok = ran
                if ok and runs > 0:
                    return {"status": "passed", "detail": "unittest: %d tests passed (%d calls judged outside the program)" % (runs, program.calls)}
                return {"status": "failed", "detail": "unittest: %s" % ("no tests ran" if runs == 0 else "%d tests ran, not all passed" % runs), "evidence": _tests_traceback(exc)}
            return {"status": "runtime_error", "detail": "exited (%s) during the tests, before the tests completed" % text}
        return {"status": "runtime_error", "detail": "%s at %s line %s" % (text, TESTS_FILE, line), "evidence": _tests_traceback(exc)}
    return {"status": "passed", "detail": "all tests passed (%d calls judged outside the program)" % program.calls}
