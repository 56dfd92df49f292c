"""The safe unpickler: plain values rebuilt, everything else inert, bombs refused up front."""

from __future__ import annotations

import collections
import datetime as dt
import logging
import logging.handlers
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logview.listen.decode import merge_args, record_from_logrecord, to_plain
from logview.listen.errors import ListenError
from logview.listen.safe_pickle import Placeholder, safe_loads, scan_pickle


class Custom:
    def __init__(self) -> None:
        self.x = 1


class WithReduce:
    def __reduce__(self):
        return (Custom, ())


PLAIN = {
    "s": "text é", "b": b"\x00\xffbytes", "i": 2**70, "f": 1.5, "n": None, "t": (1, "a"),
    "l": [1, [2, [3]]], "set": {1, 2}, "fs": frozenset({"a"}), "ba": bytearray(b"xy"),
    "dt": dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC), "d": dt.date(2024, 5, 1),
    "td": dt.timedelta(seconds=3), "od": collections.OrderedDict(a=1),
}


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_plain_values_round_trip_in_every_protocol(protocol):
    assert safe_loads(pickle.dumps(PLAIN, protocol=protocol)) == PLAIN


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_objects_become_inert_placeholders(protocol):
    value = safe_loads(pickle.dumps({"obj": Custom(), "red": WithReduce()}, protocol=protocol))
    obj = value["obj"]
    assert isinstance(obj, Placeholder) and obj.full_name.endswith("Custom")
    assert type(obj).__module__ == Placeholder.__module__  # not the real class
    with pytest.raises(TypeError):
        obj()  # a placeholder instance cannot be called
    assert to_plain(obj)["__class__"].endswith("Custom")
    assert isinstance(value["red"], Placeholder)


def test_stdlib_socket_handler_pickle_decodes_to_a_record():
    handler = logging.handlers.SocketHandler("127.0.0.1", 9)
    record = logging.LogRecord("app", logging.ERROR, "/src/app.py", 12, "failed %s", ("x",),
                               None)
    record.custom = {"k": [1, 2]}
    data = handler.makePickle(record)[4:]
    handler.close()
    result = record_from_logrecord(safe_loads(data), "test")
    assert (result.message, result.level, result.logger) == ("failed x", "ERROR", "app")
    assert result.fields["custom"] == {"k": [1, 2]}
    assert result.fields["lineno"] == 12 and result.fields["pathname"] == "/src/app.py"
    assert "msecs" not in result.fields and "filename" not in result.fields


@pytest.mark.parametrize("data, words", [
    (b"\x80\x02}r\xf0\xff\xff\xff.", "memo index"),
    (b"(dp99999999999\n.", "memo index"),
    (b"\x80\x02X\xff\xff\xff\x7fabc.", "past the end"),
    (b"\x80\x02" + b"]" * 150 + b"a" * 149 + b".", "nesting"),
    (b"(" * 150 + b"l" * 150 + b".", "nesting"),
    (b"\x80\x02}", "truncated"),
    (b"\x80\x02}.extra", "after the end"),
    (b"\x80\x02\xfe.", "unknown opcode"),
    (b"\x80\x02X\x01\x00\x00\x00aQ.", "persistent"),
    (b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R.", "os.system"),
    (b"\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.", "eval"),
    (b"\x80\x02c__builtin__\nbytearray\nJ\x00\xca\x9a\x3b\x85R.", "decode"),
    (b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00utf-8\x86R.", "decode"),
])
def test_unsafe_or_malformed_pickles_are_refused(data, words):
    with pytest.raises(ListenError) as info:
        safe_loads(data)
    assert words in str(info.value)


def test_shared_references_cannot_blow_up_output():
    layer: list = ["x" * 10]
    for _ in range(40):  # 2**40 leaves if expanded
        layer = [layer, layer]
    plain = to_plain({"bomb": layer})
    assert len(str(plain)) < 2_000_000


def test_merge_args_refuses_memory_bombs_and_objects():
    assert merge_args("%s and %d", ("a", 2)) == "a and 2"
    assert merge_args("%(who)s", {"who": "me"}) == "me"
    assert merge_args("%0999999999d", (1,)) == "%0999999999d"
    assert merge_args("%*d", (999999999, 1)) == "%*d"
    assert merge_args("%s", (Placeholder(),)) == "%s"
    assert merge_args("%d", ("not a number",)) == "%d"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_as_other_errors(data):
    try:
        scan_pickle(data)
        safe_loads(data)
    except ListenError:
        pass
