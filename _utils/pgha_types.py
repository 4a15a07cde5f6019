"""
The value types of pgha's settings model (``pgha_model``): what a key's value must be, and the
message that names the fix when it is not. Each type's ``problems(value, key)`` yields
``(key, message)``; ``None`` (unset: the key's default, a preset or a rule decides) is never a
type problem. Pure Python, no ``__salt__``.

YAML 1.1 turns unquoted ``0123``, ``yes``, ``12:30``, ``0x1F`` and ``off`` into numbers and
booleans: a string key given one of those is refused with the quoting that fixes it, never
converted (``str(750)`` is not the ``12:30`` that was meant).
"""
import datetime
import os.path
import re
import runpy

# Salt's own name for this utils module is its file name.
__virtualname__ = "pgha_types"

# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]


def __virtual__():
    return __virtualname__


def kind(value):
    """How YAML read an unquoted scalar, for the message."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "a date"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _scalar(value):
    return isinstance(value, (bool, int, float, datetime.date, datetime.datetime))


class Type:
    """A key's type. ``autobase`` is autobase's variable for the key (docs/autobase-mapping.md)."""

    def __init__(self, autobase=None, doc=None):
        self.autobase, self.doc = autobase, doc

    def problems(self, value, key):  # pragma: no cover - every type overrides it
        raise NotImplementedError

    def got(self, value):
        return f" (got {value!r})"


class Str(Type):
    """A string. ``grammar`` a regex its non-empty value must match (``what`` says what it is),
    or a function returning why a value is wrong; ``nonempty`` refuses ''; ``secret`` values
    are never shown;
    ``ascii`` refuses non-ASCII characters with ``ascii`` as the reason; ``pem`` values may
    span lines (the control character sweep lets newlines through); ``numbers`` takes a whole
    number too, as its digits (an HAProxy time of 500 is 500ms)."""

    def __init__(self, grammar=None, what=None, secret=False, ascii=None, pem=False, nonempty=False,
                 numbers=False, **kw):
        super().__init__(**kw)
        self.grammar = re.compile(grammar) if isinstance(grammar, str) else grammar
        self.what, self.secret, self.ascii, self.pem, self.nonempty = what, secret, ascii, pem, nonempty
        self.numbers = numbers

    def got(self, value):
        return "" if self.secret else super().got(value)

    def problems(self, value, key):
        if value is None:
            return
        if self.numbers and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            if _scalar(value):
                shown = "" if self.secret else f" {value!r}"
                yield key, (f"must be a string, but YAML read it as {kind(value)}{shown}: quote the "
                            "value as written, e.g. '0123', 'yes', '12:30' (unquoted, YAML turns "
                            "such values into numbers and booleans)")
            else:
                yield key, f"must be a string, not {kind(value)}{self.got(value)}"
            return
        if self.ascii and not value.isascii():
            yield key, f"must be ASCII: {self.ascii}"
        if value == "" and self.nonempty:
            yield key, "must not be empty"
        if value == "" or self.grammar is None:
            return
        why = (self.grammar(value) if callable(self.grammar)
               else None if self.grammar.fullmatch(value) else f"is not {self.what}{self.got(value)}")
        if why:
            yield key, why


class Bool(Type):
    """A real boolean: 'false' and 'no' (quoted) are strings, refused."""

    def problems(self, value, key):
        if value is not None and not isinstance(value, bool):
            yield key, f"must be true or false{self.got(value)}: a YAML boolean, unquoted"


class Int(Type):
    """A whole number from ``lo`` to ``hi``; ``digits`` also takes a string of digits ('16').
    ``what`` names it in the message (default "a whole number"), ``why`` says why the range."""

    def __init__(self, lo=None, hi=None, unit="", digits=False, what="a whole number", why="", **kw):
        super().__init__(**kw)
        self.lo, self.hi, self.unit, self.digits, self.what, self.why = lo, hi, unit, digits, what, why

    def message(self):
        unit = f" of {self.unit}" if self.unit else ""
        why = f": {self.why}" if self.why else ""
        if self.lo is not None and self.hi is not None:
            return f"must be {self.what}{unit} from {self.lo} to {self.hi}{why}"
        return f"must be {self.what}{unit}" + (f" >= {self.lo}" if self.lo is not None else "") + why

    def problems(self, value, key):
        if value is None:
            return
        if self.digits and isinstance(value, str) and value.isdigit() and value.isascii():
            value = int(value)
        if (isinstance(value, bool) or not isinstance(value, int)
                or (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi)):
            yield key, f"{self.message()}{self.got(value)}"


class Port(Int):
    def __init__(self, **kw):
        super().__init__(1, 65535, **kw)

    def message(self):
        return "must be a port number 1-65535"


class Enum(Type):
    """One of ``choices`` (compared with their types: True is not 'true'); ``why`` says more."""

    def __init__(self, *choices, why="", **kw):
        super().__init__(**kw)
        self.choices, self.why = choices, why

    def problems(self, value, key):
        if value is None:
            return
        if not any(value == c and type(value) is type(c) for c in self.choices):
            shown = ", ".join(str(c).lower() if isinstance(c, bool) else repr(c) if c == "" else str(c)
                              for c in self.choices)
            yield key, f"must be one of {shown}{': ' + self.why if self.why else ''}{self.got(value)}"


class ListOf(Type):
    """A list whose items are ``item``."""

    def __init__(self, item, example="", **kw):
        super().__init__(**kw)
        self.item, self.example = item, example

    def problems(self, value, key):
        if value is None:
            return
        if not isinstance(value, list):
            yield key, f"must be a list{' such as ' + self.example if self.example else ''}{self.got(value)}"
            return
        for i, item in enumerate(value):
            yield from self.item.problems(item, f"{key}:{i}")


class Record(Type):
    """A mapping with known keys (``fields``: name -> Type); ``closed`` refuses other keys."""

    def __init__(self, fields, closed=False, **kw):
        super().__init__(**kw)
        self.fields, self.closed = fields, closed

    def problems(self, value, key):
        if value is None:
            return
        if not isinstance(value, dict):
            yield key, f"must be a mapping of {', '.join(self.fields)}{self.got(value)}"
            return
        for name, kind in self.fields.items():
            yield from kind.problems(value.get(name), f"{key}:{name}")
        if self.closed:
            for name in sorted(set(map(str, value)) - set(self.fields)):
                yield f"{key}:{name}", f"unknown key; known: {', '.join(self.fields)}"


class Map(Type):
    """A free-form mapping: the user's keys, passed through as written; ``values`` types them,
    ``names`` is the grammar of the keys (``what`` says what a key is)."""

    def __init__(self, values=None, names=None, what=None, example="", **kw):
        super().__init__(**kw)
        self.values, self.what, self.example = values, what, example
        self.names = re.compile(names) if names else None

    def problems(self, value, key):
        if value is None:
            return
        if not isinstance(value, dict):
            yield key, f"must be a mapping{' such as ' + self.example if self.example else ''}{self.got(value)}"
            return
        for name, item in value.items():
            if not isinstance(name, str):
                yield f"{key}:{name}", f"the key must be a string, but YAML read it as {kind(name)}: quote it"
            elif self.names and not self.names.fullmatch(name):
                yield f"{key}:{name}", f"is not {self.what}: the key goes into a configuration file as written"
            elif self.values:
                yield from self.values.problems(item, f"{key}:{name}")


class Any(Type):
    """A value of any type: only where the value is genuinely free-form (pgha passes it on as
    it is, a rule says the rest). Every use in pgha_model says why."""

    def problems(self, value, key):
        return iter(())


def path_problem(value, data_dir=False):
    """Why ``value`` is not an absolute, normalized path (None when it is one). ``data_dir``:
    a directory pgha's removal deletes, which must not be or contain a system directory.
    ``{version}`` (the PostgreSQL major, in the distro's paths) is allowed."""
    if not value.startswith("/"):
        return f"must be an absolute path (got {value!r})"
    if ".." in value.split("/") or os.path.normpath(value) != (value.rstrip("/") or "/") or "//" in value:
        return f"must be a normalized path, without '..', '.' or '//' (got {value!r})"
    if data_dir:
        # The same list the removal states check on the node (pgha_paths): one source.
        why = _sibling("pgha_paths").system_dir_problem(value)
        if why:
            return (f"{why}: pgha:remove deletes this directory; give one of its own, e.g. "
                    "/var/lib/postgresql/15/main or /srv/pgdata")
    return None
