"""Every format, fed any text: the splitter keeps every byte and parsing never raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logview.boundaries import RecordSplitter
from logview.formats.base import PlainFormat
from logview.formats.jsonl import JsonFormat
from logview.formats.logfmt import LogfmtFormat
from logview.formats.syslog import SyslogFormat
from logview.formats.template import TemplateFormat
from logview.printer import dumps_record
from logview.record import parse_raw_record

FORMATS = [
    JsonFormat(),
    LogfmtFormat(),
    SyslogFormat(),
    PlainFormat(),
    TemplateFormat("%(asctime)s - %(name)s - %(levelname)s - %(message)s"),
]


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_parses_and_nothing_is_dropped(fmt, text):
    data = text.encode("utf-8", "surrogatepass")
    splitter = RecordSplitter(fmt)
    raws = splitter.feed(data) + splitter.flush()
    assert b"".join(r.data for r in raws) == data
    for raw in raws:
        dumps_record(parse_raw_record(fmt, raw))
