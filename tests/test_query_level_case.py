"""The level_case hint: fewer needles, still never excluding a record the query matches."""

from __future__ import annotations

import logging

from hypothesis import given, settings
from hypothesis import strategies as st

from logview.formats.template import TemplateFormat
from logview.query import parse_query
from logview.record import _ALIASES, level_from_name

#: What logging.Formatter writes for %(levelname)s without custom level names.
PYTHON_WRITTEN = [logging.getLevelName(n) for n in range(61)]
UPPER_WRITTEN = sorted(_ALIASES) + ["Level 45", "SUCCESS"]
LEVEL_QUERY = st.tuples(
    st.sampled_from(["level>=", "level>", "level=", "level:", "level<", "level!="]),
    st.sampled_from(["trace", "debug", "info", "notice", "warning", "error", "critical", "fatal",
                     "15", "25", "35", "40", "45", "50", "60"]),
).map("".join)


def raw_line(level: str) -> bytes:
    return f"2024-03-10 11:30:00,000 - app - {level} - message\n".encode()


def check(query_text: str, written: list[str], case: str) -> None:
    query = parse_query(query_text)
    prefilter = query.prefilter(level_text=True, json_escaped=False, level_case=case)
    fmt = TemplateFormat("%(asctime)s - %(name)s - %(levelname)s - %(message)s")
    for level in written:
        record = fmt.parse(raw_line(level).decode().rstrip("\n"))
        if level.upper() == "SUCCESS":
            record.levelno = 25
        if query.matches(record) and prefilter is not None:
            assert prefilter.may_match(raw_line(level)), (query_text, level)


@settings(max_examples=200, deadline=None)
@given(LEVEL_QUERY)
def test_python_case_is_sound_for_what_logging_writes(query_text):
    check(query_text, PYTHON_WRITTEN, "python")


@settings(max_examples=200, deadline=None)
@given(LEVEL_QUERY)
def test_upper_case_is_sound_for_every_upper_alias(query_text):
    check(query_text, UPPER_WRITTEN, "upper")


def test_hints_need_fewer_needles():
    query = parse_query("level>=ERROR")
    every = query.prefilter(level_text=True, json_escaped=False).alternatives[0]
    upper = query.prefilter(level_text=True, json_escaped=False, level_case="upper")
    python = query.prefilter(level_text=True, json_escaped=False, level_case="python")
    assert {text for text, _ in python.alternatives[0]} == {b"ERROR", b"CRITICAL", b"Level "}
    assert len(python.alternatives[0]) < len(upper.alternatives[0]) < len(every)
    assert not python.may_match(raw_line("error")) and not upper.may_match(raw_line("Error"))
    assert upper.may_match(raw_line("FATAL")) and not python.may_match(raw_line("FATAL"))


def test_which_formats_get_the_python_hint():
    assert TemplateFormat("%(levelname)s %(message)s").level_case == "python"
    assert TemplateFormat("%(levelname).1s %(message)s").level_case is None
    assert TemplateFormat("%(levelname)s %(message)s", levels={"notice": 25}).level_case is None
    assert TemplateFormat("%(asctime)s %(message)s").level_case is None
    assert level_from_name("Level 45") == ("LEVEL 45", 45)
