"""Plain values across the boundary between a program's process and the judge.

`encode` runs in the program's process and turns a result into JSON-able tagged data by the
*exact* type of each object, reading it through the builtin type's own methods, so neither a
subclass overriding `__eq__`/`__repr__`/`__iter__` nor a patched builtin changes what is sent:
an `int` subclass whose `__eq__` answers True arrives as the plain int it holds. `decode`
runs in the judge and builds only builtin (and a few stdlib container) objects, with bounded
size and depth; anything else raises `BadValue`. Nothing here trusts the program: the program
may send any bytes it likes, but the expected values live in the judge, out of its reach.
"""
# Builtins of our own, copied before any program runs: a program that patches `len` or
# `isinstance` for its own purposes does not break how this module talks to the judge.
__builtins__ = dict(__import__("builtins").__dict__)

import collections
import decimal
import fractions

MAX_DEPTH = 100
MAX_ITEMS = 2_000_000


class Unencodable(Exception):
    """The value is not plain data (a generator, a program-defined object...)."""


class BadValue(Exception):
    """What came back is not a well-formed encoded value."""


_int, _float, _str, _bytes, _complex = int, float, str, bytes, complex
_list, _tuple, _dict, _set, _frozenset = list, tuple, dict, set, frozenset
_bool, _type, _len, _isinstance, _bytearray = bool, type, len, isinstance, bytearray
_SMALL = 1 << 53
_int_format = int.__format__
_float_hex = float.hex
_str_copy = str.__str__
_bytes_hex = bytes.hex
_list_iter, _tuple_iter = list.__iter__, tuple.__iter__
_dict_items = dict.items
_set_iter, _frozenset_iter = set.__iter__, frozenset.__iter__
_OrderedDict, _Counter, _defaultdict, _deque = collections.OrderedDict, collections.Counter, collections.defaultdict, collections.deque
_Fraction, _Decimal = fractions.Fraction, decimal.Decimal
_Fraction_str, _Decimal_str = fractions.Fraction.__str__, decimal.Decimal.__str__


def encode(obj, depth=0, opaque=None):
    """`opaque(obj)` (if given) encodes what is not plain data (e.g. as a handle); else Unencodable."""
    if depth > MAX_DEPTH:
        raise Unencodable("nested deeper than %d" % MAX_DEPTH)
    t = _type(obj)
    if obj is None:
        return None
    if t is _bool:
        return True if obj is True else False
    if t is _int:
        if -_SMALL < obj < _SMALL:
            return obj
        return ["i", _int_format(obj, "x")]
    if t is _float:
        return ["f", _float_hex(obj)]
    if t is _str:
        return _str_copy(obj)
    d = depth + 1
    if t is _list:
        return ["l", [encode(x, d, opaque) for x in _list_iter(obj)]]
    if t is _tuple:
        return ["t", [encode(x, d, opaque) for x in _tuple_iter(obj)]]
    if t is _dict:
        return ["d", [[encode(k, d, opaque), encode(v, d, opaque)] for k, v in _dict_items(obj)]]
    if t is _set:
        return ["s", [encode(x, d, opaque) for x in _set_iter(obj)]]
    if t is _frozenset:
        return ["z", [encode(x, d, opaque) for x in _frozenset_iter(obj)]]
    if t is _bytes:
        return ["b", _bytes_hex(obj)]
    if t is _bytearray:
        return ["a", _bytes_hex(_bytes(obj))]
    if t is _complex:
        return ["c", _float_hex(complex.real.__get__(obj)), _float_hex(complex.imag.__get__(obj))]
    # Containers of the standard library that programs return for good reasons.
    if t is _OrderedDict:
        return ["o", [[encode(k, d, opaque), encode(v, d, opaque)] for k, v in _dict_items(obj)]]
    if t is _Counter:
        return ["C", [[encode(k, d, opaque), encode(v, d, opaque)] for k, v in _dict_items(obj)]]
    if t is _defaultdict:
        return ["d", [[encode(k, d, opaque), encode(v, d, opaque)] for k, v in _dict_items(obj)]]
    if t is _deque:
        return ["q", [encode(x, d, opaque) for x in _deque.__iter__(obj)]]
    if t is _Fraction:
        return ["Q", _Fraction_str(obj)]
    if t is _Decimal:
        return ["M", _Decimal_str(obj)]
    # Subclasses of plain types (namedtuples, hostile int subclasses...): the plain value they hold.
    if _isinstance(obj, _bool):
        return True if _int.__index__(obj) else False
    if _isinstance(obj, _int):
        return encode(_int.__index__(obj), depth)
    if _isinstance(obj, _float):
        return ["f", _float_hex(obj)]
    if _isinstance(obj, _str):
        return _str_copy(obj)
    if _isinstance(obj, _tuple):
        return ["t", [encode(x, d, opaque) for x in _tuple_iter(obj)]]
    if _isinstance(obj, _list):
        return ["l", [encode(x, d, opaque) for x in _list_iter(obj)]]
    if _isinstance(obj, _dict):
        return ["d", [[encode(k, d, opaque), encode(v, d, opaque)] for k, v in _dict_items(obj)]]
    if _isinstance(obj, _frozenset):
        return ["z", [encode(x, d, opaque) for x in _frozenset_iter(obj)]]
    if _isinstance(obj, _set):
        return ["s", [encode(x, d, opaque) for x in _set_iter(obj)]]
    if _isinstance(obj, _bytes):
        return ["b", _bytes_hex(obj)]
    if opaque is not None:
        return opaque(obj)
    raise Unencodable("a %s is not a plain value" % _type_name(t))


def _type_name(t):
    try:
        return _str_copy(type.__dict__["__name__"].__get__(t))
    except Exception:  # noqa: BLE001 - a hostile metaclass
        return "object"


class _Budget:
    def __init__(self):
        self.items = 0

    def take(self, n=1):
        self.items += n
        if self.items > MAX_ITEMS:
            raise BadValue("more than %d items" % MAX_ITEMS)


def decode(data, depth=0, budget=None, special=None):
    """`special(tag, data)` (if given) decodes the tags "h" (handle), "T" (builtin type) and
    "N" (a global of the program, by name)."""
    budget = budget or _Budget()
    budget.take()
    if depth > MAX_DEPTH + 1:
        raise BadValue("nested too deep")
    t = type(data)
    if data is None or t is bool or t is str:
        return data
    if t is int:
        return data
    if t is not list or not data or type(data[0]) is not str:
        raise BadValue("malformed value")
    tag, d = data[0], depth + 1
    try:
        if tag in ("h", "T", "N"):
            if special is None:
                raise BadValue("unexpected %r value" % tag)
            return special(tag, data)
        if tag == "i":
            return int(data[1], 16)
        if tag == "f":
            return float.fromhex(data[1])
        if tag == "c":
            return complex(float.fromhex(data[1]), float.fromhex(data[2]))
        if tag == "b":
            return bytes.fromhex(data[1])
        if tag == "a":
            return bytearray.fromhex(data[1])
        if tag == "Q":
            return fractions.Fraction(data[1])
        if tag == "M":
            return decimal.Decimal(data[1])
        items = data[1]
        if type(items) is not list:
            raise BadValue("malformed container")
        budget.take(len(items))
        if tag == "l":
            return [decode(x, d, budget, special) for x in items]
        if tag == "t":
            return tuple(decode(x, d, budget, special) for x in items)
        if tag == "q":
            return collections.deque(decode(x, d, budget, special) for x in items)
        if tag in ("s", "z"):
            values = [decode(x, d, budget, special) for x in items]
            return set(values) if tag == "s" else frozenset(values)
        if tag in ("d", "o", "C"):
            pairs = []
            for pair in items:
                if type(pair) is not list or len(pair) != 2:
                    raise BadValue("malformed mapping")
                pairs.append((decode(pair[0], d, budget, special), decode(pair[1], d, budget, special)))
            kind = {"d": dict, "o": collections.OrderedDict, "C": collections.Counter}[tag]
            return kind(pairs) if tag != "C" else collections.Counter(dict(pairs))
    except BadValue:
        raise
    except (ValueError, TypeError, IndexError, OverflowError, ArithmeticError) as exc:
        raise BadValue("malformed %r value: %s" % (tag, exc))
    raise BadValue("unknown value tag %r" % tag)
