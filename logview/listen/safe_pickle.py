"""Decode pickles from the network without running anything they name.

``pickle.loads`` on received bytes runs whatever callable the sender names. Here every global a
pickle refers to becomes an inert ``Placeholder`` class that only records its name and the
arguments and state it was given; a short allowlist rebuilds plain values (datetimes, bytes as
protocols 0-2 encode them, sets, bytearrays). Before decoding, ``scan_pickle`` walks the opcodes
(using ``pickletools``' opcode table) and rejects memo bombs, lengths beyond the frame, deep
nesting and persistent ids, so the C unpickler only ever sees bounded, well-formed input.
"""

from __future__ import annotations

import datetime as _dt
import io
import pickle
import pickletools
import struct
from typing import Any, Self

from logview.listen.errors import ListenError

MAX_MEMO = 100_000
MAX_DEPTH = 100
MAX_GLOBALS = 1_000
#: Bound on elements rebuilt by an allowlisted constructor (e.g. ``bytearray([..])``).
MAX_REBUILD = 1 << 20


_CONTAINERS = {"list", "dict", "tuple", "set", "frozenset", "any", "bytearray"}

# What an opcode needs besides its stack effect.
_PLAIN, _PUT_BIN, _PUT_TEXT, _REFUSE, _MARK_OP, _DUP_OP, _STOP_OP, _MEMOIZE_OP = range(8)
_SPECIAL = {"BINPUT": _PUT_BIN, "LONG_BINPUT": _PUT_BIN, "PUT": _PUT_TEXT,
            "PERSID": _REFUSE, "BINPERSID": _REFUSE, "NEXT_BUFFER": _REFUSE,
            "READONLY_BUFFER": _REFUSE, "MARK": _MARK_OP, "DUP": _DUP_OP, "STOP": _STOP_OP,
            "MEMOIZE": _MEMOIZE_OP}
_SCALAR, _CONTAINER = 1, 2


def _build_table() -> list[tuple | None]:
    """Per opcode byte: (name, arg n, items before a popped mark or -1, pops, push, special).

    ``push`` is 0 (nothing), ``_SCALAR`` or ``_CONTAINER`` (a value that may nest others).
    """
    table: list[tuple | None] = [None] * 256
    for op in pickletools.opcodes:
        before = [s.name for s in op.stack_before]
        after = [s.name for s in op.stack_after if s.name != "mark"]
        pre = before.index("mark") if "mark" in before else -1
        pops = pre if pre >= 0 else len(before)
        push = 0
        if after:
            push = _CONTAINER if after[-1] in _CONTAINERS else _SCALAR
        special = _SPECIAL.get(op.name, _PLAIN)
        if special == _DUP_OP:
            pops, push = 0, _SCALAR  # a second reference, not a new level
        argn = None if op.arg is None else op.arg.n
        table[op.code.encode("latin-1")[0]] = (op.name, argn, pre, pops, push, special)
    return table


_TABLE = _build_table()
_GLOBAL = {ord("c"), ord("i")}
_unpack_u4 = struct.Struct("<I").unpack_from
_unpack_i4 = struct.Struct("<i").unpack_from
_unpack_u8 = struct.Struct("<Q").unpack_from


def _reject(detail: str) -> ListenError:
    return ListenError("unsafe pickle", f"refused a pickle: {detail}")


def _arg_length(data: bytes, pos: int, argn: int, name: str) -> tuple[int, int]:
    """(payload length, position after the length field) of a counted argument."""
    size = 1 if argn == pickletools.TAKEN_FROM_ARGUMENT1 else (
        8 if argn == pickletools.TAKEN_FROM_ARGUMENT8U else 4)
    if pos + size > len(data):
        raise _reject(f"{name} at byte {pos - 1} runs past the end")
    if size == 1:
        return data[pos], pos + 1
    if size == 8:
        return _unpack_u8(data, pos)[0], pos + 8
    unpack = _unpack_i4 if argn == pickletools.TAKEN_FROM_ARGUMENT4 else _unpack_u4
    return unpack(data, pos)[0], pos + 4


def scan_pickle(data: bytes, *, max_memo: int = MAX_MEMO, max_depth: int = MAX_DEPTH) -> None:
    """Check a pickle's opcodes before it is decoded; raise ``ListenError`` when unsafe.

    Rejects: unknown opcodes, arguments or lengths that run past the end, memo indexes above
    ``max_memo``, container/mark nesting deeper than ``max_depth``, persistent ids and
    out-of-band buffers, a missing STOP or bytes after it.
    """
    table = _TABLE
    up_to_newline = pickletools.UP_TO_NEWLINE
    n = len(data)
    pos = 0
    depth_of = 0  # values on the simulated stack
    containers: list[int] = []  # stack positions holding values that may nest others
    marks: list[int] = []
    memo_count = 0
    while pos < n:
        code = data[pos]
        info = table[code]
        if info is None:
            raise _reject(f"unknown opcode 0x{code:02x} at byte {pos}")
        name, argn, pre, pops, push, special = info
        pos += 1
        if argn is not None:
            if argn >= 0:
                if special == _PUT_BIN and pos + argn <= n:
                    index = data[pos] if argn == 1 else _unpack_u4(data, pos)[0]
                    if index > max_memo:
                        raise _reject(f"memo index {index} (limit {max_memo})")
                    memo_count += 1
                pos += argn
                if pos > n:
                    raise _reject(f"{name} runs past the end")
            elif argn == up_to_newline:
                end = data.find(b"\n", pos)
                if code in _GLOBAL and end >= 0:
                    end = data.find(b"\n", end + 1)
                if end < 0:
                    raise _reject(f"{name} at byte {pos - 1} has no end of line")
                if special == _PUT_TEXT:
                    text = data[pos:end]
                    if len(text) > 7 or not text.isdigit() or int(text) > max_memo:
                        raise _reject(f"memo index {text[:20]!r} (limit {max_memo})")
                    memo_count += 1
                pos = end + 1
            else:
                length, pos = _arg_length(data, pos, argn, name)
                if length < 0 or pos + length > n:
                    raise _reject(f"{name} length {length} runs past the end of the frame")
                pos += length
        if special:
            if special == _REFUSE:
                raise _reject(f"{name} (persistent ids and out-of-band buffers are refused)")
            if special == _MEMOIZE_OP:
                memo_count += 1
            if memo_count > max_memo:
                raise _reject(f"more than {max_memo} memo entries")
        # Simulate the stack, only to measure nesting.
        if pre >= 0:
            if not marks:
                raise _reject(f"{name} without a MARK")
            depth_of = marks.pop()
            while containers and containers[-1] >= depth_of:
                containers.pop()
        if pops:
            if depth_of < pops:
                raise _reject(f"{name} at byte {pos} pops an empty stack")
            depth_of -= pops
            while containers and containers[-1] >= depth_of:
                containers.pop()
        if push:
            if push == _CONTAINER:
                containers.append(depth_of)
                if len(containers) + len(marks) > max_depth:
                    raise _reject(f"nesting deeper than {max_depth}")
            depth_of += 1
        elif special == _MARK_OP:
            marks.append(depth_of)
            if len(containers) + len(marks) > max_depth:
                raise _reject(f"nesting deeper than {max_depth}")
        elif special == _STOP_OP:
            if pos != n:
                raise _reject(f"{n - pos} bytes after the end of the pickle")
            return
    raise _reject("it ends before its STOP opcode (truncated)")


class Placeholder:
    """Stands in for a class or function a pickle names; it runs nothing.

    Instantiating it (REDUCE, NEWOBJ, INST, OBJ) only stores the arguments; BUILD stores the
    state; list/dict/set-style filling is stored too. Instances are not callable, so a
    placeholder can never be used to call anything else.
    """

    __slots__ = ("args", "items", "kwargs", "state")
    module = ""
    qualname = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        obj = object.__new__(cls)
        obj.args = args
        obj.kwargs = kwargs
        obj.state = None
        obj.items = []
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def append(self, item: Any) -> None:
        self.items.append(item)

    def extend(self, items: Any) -> None:
        self.items.extend(items)

    def add(self, item: Any) -> None:
        self.items.append(item)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.items.append((key, value))

    def __reduce__(self) -> Any:
        raise TypeError("placeholders are not picklable")

    def __repr__(self) -> str:
        return f"<{self.module}.{self.qualname} placeholder>"

    @property
    def full_name(self) -> str:
        return f"{self.module}.{self.qualname}"


def _bounded_ints(values: Any) -> list[int]:
    if not isinstance(values, (list, tuple)) or len(values) > MAX_REBUILD:
        raise TypeError("only a bounded list of ints is accepted")
    return list(values)


def _safe_bytes(value: Any = b"", encoding: str | None = None, errors: str = "strict") -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode(encoding or "utf-8", errors)
    return bytes(_bounded_ints(value))


def _safe_bytearray(value: Any = b"", encoding: str | None = None, errors: str = "strict"):
    return bytearray(_safe_bytes(value, encoding, errors))


def _codecs_encode(value: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """Protocols 0-2 pickle bytes as ``_codecs.encode(text, 'latin1')``: allow exactly that."""
    if not isinstance(value, str) or encoding.replace("-", "").lower() != "latin1":
        raise TypeError("_codecs.encode is only accepted as (str, 'latin1')")
    return value.encode("latin-1")


def _plain_collection(kind: type):
    def build(values: Any = ()) -> Any:
        if not isinstance(values, (list, tuple, set, frozenset, dict, str, bytes)):
            raise TypeError(f"{kind.__name__}() only from plain values")
        return kind(values)

    return build


def _reconstructor(cls: Any, base: Any, state: Any = None) -> Any:
    """``copyreg._reconstructor`` (protocols 0-1 objects): a placeholder of ``cls``."""
    if isinstance(cls, type) and issubclass(cls, Placeholder):
        obj = cls()
        obj.state = state
        return obj
    raise TypeError("copyreg._reconstructor only for placeholder classes")


_BUILTINS = {
    "set": _plain_collection(set),
    "frozenset": _plain_collection(frozenset),
    "list": _plain_collection(list),
    "tuple": _plain_collection(tuple),
    "dict": _plain_collection(dict),
    "bytes": _safe_bytes,
    "bytearray": _safe_bytearray,
}
_ALLOWED: dict[tuple[str, str], Any] = {
    ("datetime", "datetime"): _dt.datetime,
    ("datetime", "date"): _dt.date,
    ("datetime", "time"): _dt.time,
    ("datetime", "timedelta"): _dt.timedelta,
    ("datetime", "timezone"): _dt.timezone,
    ("_codecs", "encode"): _codecs_encode,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("collections", "OrderedDict"): _plain_collection(dict),
}
for _name, _fn in _BUILTINS.items():
    _ALLOWED[("builtins", _name)] = _fn
    _ALLOWED[("__builtin__", _name)] = _fn
_ALLOWED[("__builtin__", "unicode")] = _plain_collection(str)
_ALLOWED[("builtins", "object")] = object  # copyreg._reconstructor's base argument


#: Modules no pickled log record ever names: a pickle that does is an attack and is refused
#: outright (it would be inert anyway, but the sender deserves a clear "no").
_HOSTILE_MODULES = frozenset((
    "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "importlib", "pickle",
    "_pickle", "marshal", "ctypes", "runpy", "code", "codeop", "pty", "platform", "webbrowser",
    "multiprocessing", "signal", "io", "_io", "tempfile", "pathlib", "commands", "popen2",
))
_HOSTILE_BUILTINS = frozenset((
    "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr",
    "globals", "locals", "vars", "input", "breakpoint", "execfile", "file", "reload",
))


class HostilePickle(pickle.UnpicklingError):
    """A pickle that names something only an attack would (``os.system``, ``eval``...)."""


class SafeUnpickler(pickle.Unpickler):
    """An Unpickler whose globals are placeholders or allowlisted plain-value builders."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, encoding="utf-8", errors="replace")
        self._classes: dict[tuple[str, str], type] = {}

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        root = module.partition(".")[0]
        if root in _HOSTILE_MODULES or (
            root in ("builtins", "__builtin__") and name in _HOSTILE_BUILTINS
        ):
            raise HostilePickle(f"it names {module}.{name}, which no log record needs")
        allowed = _ALLOWED.get(key)
        if allowed is not None:
            return allowed
        cls = self._classes.get(key)
        if cls is None:
            if len(self._classes) >= MAX_GLOBALS:
                raise pickle.UnpicklingError(f"more than {MAX_GLOBALS} distinct globals")
            cls = type("Placeholder", (Placeholder,), {"__slots__": ()})
            cls.module = module[:200]
            cls.qualname = name[:200]
            self._classes[key] = cls
        return cls

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not accepted")


def safe_loads(data: bytes, *, max_memo: int = MAX_MEMO, max_depth: int = MAX_DEPTH) -> Any:
    """Scan then decode one pickle; ``ListenError`` for anything unsafe or malformed."""
    scan_pickle(data, max_memo=max_memo, max_depth=max_depth)
    try:
        return SafeUnpickler(io.BytesIO(data)).load()
    except HostilePickle as exc:
        raise ListenError("unsafe pickle", f"refused a pickle: {exc}") from exc
    except RecursionError as exc:  # pragma: no cover - the scan bounds nesting first
        raise ListenError("unsafe pickle", "refused a pickle: nesting too deep") from exc
    except MemoryError as exc:
        raise ListenError("unsafe pickle", "refused a pickle: it needs too much memory") from exc
    except Exception as exc:
        raise ListenError("bad pickle", f"could not decode a pickle: {type(exc).__name__}: "
                          f"{str(exc)[:200]}") from exc
