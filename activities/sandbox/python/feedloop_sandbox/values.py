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
import datetime
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
_id, _slice = id, slice
_range = range
_range_start, _range_stop, _range_step = (range.__dict__[n].__get__ for n in ("start", "stop", "step"))
_date, _datetime, _time, _timedelta = datetime.date, datetime.datetime, datetime.time, datetime.timedelta
_iso = {_date: datetime.date.isoformat, _datetime: datetime.datetime.isoformat, _time: datetime.time.isoformat}
_td_days, _td_seconds, _td_micro = (datetime.timedelta.__dict__[n].__get__ for n in ("days", "seconds", "microseconds"))


def _tzinfo_of(obj):
    return type(obj).__dict__["tzinfo"].__get__(obj) if type(obj) is not _date else None


def _unencodable(t):
    raise Unencodable("a %s is not a plain value" % _type_name(t))

_slice_start, _slice_stop, _slice_step = (slice.__dict__[n].__get__ for n in ("start", "stop", "step"))
_namedtuples = {}


def encode(obj, depth=0, opaque=None, refs=None):
    """`opaque(obj)` (if given) encodes what is not plain data (e.g. as a handle); else Unencodable.
    `refs` (if given) maps id() of the call's mutable arguments to their index: such an object
    is sent as a reference ["A", index], so the tests get their own object back (`result is arg`)."""
    if depth > MAX_DEPTH:
        raise Unencodable("nested deeper than %d" % MAX_DEPTH)
    t = _type(obj)
    if obj is None:
        return None
    if refs and (t is _list or t is _dict or t is _set or t is _bytearray) and _id(obj) in refs:
        return ["A", refs[_id(obj)]]
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
        return ["l", [encode(x, d, opaque, refs) for x in _list_iter(obj)]]
    if t is _tuple:
        return ["t", [encode(x, d, opaque, refs) for x in _tuple_iter(obj)]]
    if t is _dict:
        return ["d", [[encode(k, d, opaque, refs), encode(v, d, opaque, refs)] for k, v in _dict_items(obj)]]
    if t is _set:
        return ["s", [encode(x, d, opaque, refs) for x in _set_iter(obj)]]
    if t is _frozenset:
        return ["z", [encode(x, d, opaque, refs) for x in _frozenset_iter(obj)]]
    if t is _bytes:
        return ["b", _bytes_hex(obj)]
    if t is _bytearray:
        return ["a", _bytes_hex(_bytes(obj))]
    if t is _complex:
        return ["c", _float_hex(complex.real.__get__(obj)), _float_hex(complex.imag.__get__(obj))]
    # Containers of the standard library that programs return for good reasons.
    if t is _OrderedDict:
        return ["o", [[encode(k, d, opaque, refs), encode(v, d, opaque, refs)] for k, v in _dict_items(obj)]]
    if t is _Counter:
        return ["C", [[encode(k, d, opaque, refs), encode(v, d, opaque, refs)] for k, v in _dict_items(obj)]]
    if t is _defaultdict:
        return ["d", [[encode(k, d, opaque, refs), encode(v, d, opaque, refs)] for k, v in _dict_items(obj)]]
    if t is _deque:
        return ["q", [encode(x, d, opaque, refs) for x in _deque.__iter__(obj)]]
    if t is _Fraction:
        return ["Q", _Fraction_str(obj)]
    if t is _Decimal:
        return ["M", _Decimal_str(obj)]
    if t is _range:
        return ["r", [_range_start(obj), _range_stop(obj), _range_step(obj)]]
    if t is _date or t is _datetime or t is _time:
        if t is not _date and _tzinfo_of(obj) is not None:
            return opaque(obj) if opaque is not None else _unencodable(t)
        return ["D", _type_name(t), _iso[t](obj)]
    if t is _timedelta:
        return ["e", [_td_days(obj), _td_seconds(obj), _td_micro(obj)]]
    if t is _slice:
        return ["S", [encode(_slice_start(obj), d, opaque), encode(_slice_stop(obj), d, opaque), encode(_slice_step(obj), d, opaque)]]
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
        fields = _namedtuple_fields(t)
        items = [encode(x, d, opaque, refs) for x in _tuple_iter(obj)]
        if fields is not None and _len(fields) == _len(items):
            return ["n", _type_name(t)[:100], fields, items]
        return ["t", items]
    if _isinstance(obj, _list):
        return ["l", [encode(x, d, opaque, refs) for x in _list_iter(obj)]]
    if _isinstance(obj, _dict):
        return ["d", [[encode(k, d, opaque, refs), encode(v, d, opaque, refs)] for k, v in _dict_items(obj)]]
    if _isinstance(obj, _frozenset):
        return ["z", [encode(x, d, opaque, refs) for x in _frozenset_iter(obj)]]
    if _isinstance(obj, _set):
        return ["s", [encode(x, d, opaque, refs) for x in _set_iter(obj)]]
    if _isinstance(obj, _bytes):
        return ["b", _bytes_hex(obj)]
    if opaque is not None:
        return opaque(obj)
    raise Unencodable("a %s is not a plain value" % _type_name(t))


def _namedtuple_fields(t):
    """A namedtuple's field names (plain strs, read without running the class's code), or None."""
    try:
        for klass in _type.__dict__["__mro__"].__get__(t):
            fields = _type.__dict__["__dict__"].__get__(klass).get("_fields")
            if fields is not None:
                break
        else:
            return None
        if _type(fields) is not _tuple or _len(fields) > 256 or not all(_type(f) is _str and f.isidentifier() for f in fields):
            return None
        return [_str_copy(f) for f in fields]
    except Exception:  # noqa: BLE001 - a hostile metaclass
        return None


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


def _namedtuple(name, fields):
    """The judge's own namedtuple class of that name and fields (a plain tuple with attribute names)."""
    if type(name) is not str or type(fields) is not list or len(fields) > 256 or not all(type(f) is str for f in fields):
        raise BadValue("malformed namedtuple")
    key = (name, tuple(fields))
    if key not in _namedtuples:
        if len(_namedtuples) > 1000:
            raise BadValue("too many namedtuple types")
        safe = name if name.isidentifier() and not name.startswith("_") else "namedtuple"
        _namedtuples[key] = collections.namedtuple(safe, fields, rename=True)
    return _namedtuples[key]


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
        if tag in ("h", "T", "N", "A"):
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
        if tag == "r":
            if type(data[1]) is not list or len(data[1]) != 3 or not all(type(x) is int for x in data[1]):
                raise BadValue("malformed range")
            return range(*data[1])
        if tag == "D":
            kind = {"date": datetime.date, "datetime": datetime.datetime, "time": datetime.time}.get(data[1])
            if kind is None or type(data[2]) is not str:
                raise BadValue("malformed date")
            return kind.fromisoformat(data[2])
        if tag == "e":
            if type(data[1]) is not list or len(data[1]) != 3 or not all(type(x) is int for x in data[1]):
                raise BadValue("malformed timedelta")
            return datetime.timedelta(days=data[1][0], seconds=data[1][1], microseconds=data[1][2])
        if tag == "S":
            if type(data[1]) is not list or len(data[1]) != 3:
                raise BadValue("malformed slice")
            return slice(*(decode(x, d, budget, special) for x in data[1]))
        if tag == "n":
            return _namedtuple(data[1], data[2])(*(decode(x, d, budget, special) for x in data[3]))
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
