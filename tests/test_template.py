"""TemplateFormat: logging templates read back from what a real logging.Formatter wrote."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from logview.boundaries import RecordSplitter
from logview.formats.base import FormatError
from logview.formats.template import TemplateFormat, compile_template
from logview.record import parse_raw_record

DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


def make_record(
    msg: str,
    *,
    name: str = "app.db",
    level: int = logging.INFO,
    exc: bool = False,
    **extra: object,
) -> logging.LogRecord:
    record = logging.LogRecord(name, level, "/srv/app/models.py", 42, msg, None, None, "save")
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            record.exc_info = sys.exc_info()
    record.__dict__.update(extra)
    return record


def formatted(fmt: str, msg: str, datefmt: str | None = None, style: str = "%", **kw) -> str:
    return logging.Formatter(fmt, datefmt, style=style).format(make_record(msg, **kw))  # type: ignore[arg-type]


def test_dash_file_written_by_logging_handler_round_trips(tmp_path):
    path = tmp_path / "app.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(DASH))
    logger = logging.getLogger("test_template.dash")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    messages = [
        "plain",
        "with - dashes - inside",
        "two\nlines - here",
        "ünïcödé ✓",
        "x: [y] {z} %s",
    ]
    try:
        for i, msg in enumerate(messages):
            logger.log([10, 20, 30, 40, 50][i], msg)
        try:
            {}["missing"]
        except KeyError:
            logger.exception("lookup failed")
    finally:
        logger.removeHandler(handler)
        handler.close()
    fmt = TemplateFormat(DASH)
    splitter = RecordSplitter(fmt)
    raws = splitter.feed(path.read_bytes()) + splitter.flush()
    records = [parse_raw_record(fmt, raw, "app.log") for raw in raws]
    assert [r.message for r in records] == [*messages, "lookup failed"]
    assert [r.level for r in records] == ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "ERROR"]
    assert {r.logger for r in records} == {"test_template.dash"}
    assert records[-1].exc is not None and records[-1].exc.startswith("Traceback")
    assert records[-1].exc.rstrip().endswith("KeyError: 'missing'")
    assert all(r.time is not None and r.time.year >= 2024 for r in records)
    assert records[0].time_text is not None and "," in records[0].time_text
    assert [r.line for r in records][:3] == [1, 2, 3]


def test_default_asctime_gives_milliseconds():
    fmt = TemplateFormat(DASH)
    rec = fmt.parse("2024-01-02 03:04:05,123 - a.b - WARNING - hi")
    assert rec.time == datetime(2024, 1, 2, 3, 4, 5, 123000)
    assert rec.time_text == "2024-01-02 03:04:05,123"
    assert (rec.level, rec.levelno, rec.logger, rec.message) == ("WARNING", 30, "a.b", "hi")
    assert fmt.level_text and fmt.has_time


@pytest.mark.parametrize(
    ("template", "style"),
    [
        ("%(levelname)-8s %(name)s %(message)s", "%"),
        ("%(levelname)8s | %(name)-12s | %(message)s", "%"),
        ("{levelname:<8} {name}: {message}", "{"),
        ("{levelname:^9}|{name:>10}|{message}", "{"),
        ("{levelname:*^9}|{name}|{message}", "{"),
        ("${levelname} ${name} - $message", "$"),
        ("[%(levelname)s] %(name)s: %(message)s", "%"),
    ],
)
@pytest.mark.parametrize("level", [logging.DEBUG, logging.WARNING, logging.CRITICAL, 15])
def test_padding_and_alignment_are_exact(template, style, level):
    fmt = TemplateFormat(template)
    assert fmt.style == style
    for msg in ["  leading spaces kept", "ends with spaces   ", "INFO x", ""]:
        text = formatted(template, msg, style=style, level=level)
        rec = fmt.parse(text)
        assert rec.message == msg, text
        assert rec.logger == "app.db"
        assert rec.levelno == level
        assert fmt.is_start(text)


def test_datefmt_directives_compile_and_read_back():
    cases = [
        ("%Y-%m-%dT%H:%M:%S%z", datetime(2024, 3, 9, 14, 5, 6)),
        ("%d/%b/%Y:%H:%M:%S", datetime(2024, 3, 9, 14, 5, 6)),
        ("%a %b %d %I:%M:%S %p %Y", datetime(2024, 3, 9, 14, 5, 6)),
        ("%Y.%j %H:%M:%S.%f", datetime(2024, 3, 9, 14, 5, 6, 250000)),
        ("%c", datetime(2024, 3, 9, 14, 5, 6)),
        ("%y%m%d %T", datetime(2024, 3, 9, 14, 5, 6)),
    ]
    for datefmt, when in cases:
        template = "%(asctime)s %(levelname)s %(message)s"
        record = make_record("it - works")
        record.created = when.timestamp()
        record.msecs = 0
        text = logging.Formatter(template, datefmt).format(record)
        rec = TemplateFormat(template, datefmt).parse(text)
        assert rec.message == "it - works", (datefmt, text)
        assert rec.time is not None, (datefmt, text)
        assert rec.time.replace(tzinfo=None, microsecond=0) == when.replace(microsecond=0), datefmt
    # time.strftime leaves %f alone; a formatTime using datetime.strftime writes micros.
    fmt = TemplateFormat("%(asctime)s %(message)s", "%H:%M:%S.%f %d.%m.%Y")
    assert fmt.parse("14:05:06.250000 09.03.2024 m").time == datetime(2024, 3, 9, 14, 5, 6, 250000)
    assert fmt.parse("14:05:06.%f 09.03.2024 m").time == datetime(2024, 3, 9, 14, 5, 6)


def test_zone_names_and_offsets_make_aware_times():
    fmt = TemplateFormat("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S %Z")
    rec = fmt.parse("2024-01-02 03:04:05 UTC started")
    assert rec.time == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    fmt = TemplateFormat("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    rec = fmt.parse("2024-01-02T03:04:05+0100 started")
    assert rec.time is not None and rec.time.utcoffset().total_seconds() == 3600


def test_msecs_completes_a_datefmt_without_fraction():
    template = "%(asctime)s.%(msecs)03d %(levelname)s %(message)s"
    text = formatted(template, "hello", "%Y-%m-%d %H:%M:%S")
    rec = TemplateFormat(template, "%Y-%m-%d %H:%M:%S").parse(text)
    assert rec.time is not None
    assert rec.time.microsecond // 1000 == rec.fields["msecs"]
    assert isinstance(rec.fields["msecs"], int)


def test_every_attribute_lands_in_fields_typed():
    template = (
        "%(created)f %(relativeCreated)d %(levelno)s %(module)s %(funcName)s %(lineno)d "
        "%(pathname)s %(filename)s %(process)d %(processName)s %(thread)d %(threadName)s "
        "%(taskName)s %(request_id)s: %(message)s"
    )
    record = make_record("done: ok", request_id="r-17", taskName=None)  # 3.12+ sets it
    text = logging.Formatter(template).format(record)
    rec = TemplateFormat(template).parse(text)
    assert rec.message == "done: ok"
    assert (rec.level, rec.levelno) == ("INFO", 20)
    f = rec.fields
    assert f["module"] == "models" and f["funcName"] == "save" and f["lineno"] == 42
    assert f["pathname"] == "/srv/app/models.py" and f["filename"] == "models.py"
    assert f["process"] == record.process and f["thread"] == record.thread
    assert f["processName"] == record.processName and f["threadName"] == record.threadName
    assert f["taskName"] is None  # no asyncio task: logging writes "None"
    assert f["request_id"] == "r-17"
    assert isinstance(f["created"], float) and isinstance(f["relativeCreated"], int)
    assert rec.time is not None and abs(rec.time.timestamp() - record.created) < 1e-5
    assert "asctime" not in f and "levelno" not in f and "message" not in f


def test_fields_after_the_message_and_multiline():
    template = "%(asctime)s %(levelname)s %(message)s [%(filename)s:%(lineno)d]"
    fmt = TemplateFormat(template)
    for msg in ["x [a.py:1] y", "line one\nline two [b.py:2]", "trailing ]"]:
        for exc in (False, True):
            text = formatted(template, msg, exc=exc)
            rec = fmt.parse(text)
            assert rec.message == msg
            assert rec.fields == {"filename": "models.py", "lineno": 42}
            assert (rec.exc is not None) == exc
            if exc:
                assert rec.exc.endswith("ValueError: boom")


def test_traceback_goes_to_exc_and_extra_lines_stay_in_message():
    text = formatted(DASH, "first\nsecond", exc=True)
    rec = TemplateFormat(DASH).parse(text)
    assert rec.message == "first\nsecond"
    assert rec.exc is not None and rec.exc.startswith("Traceback (most recent call last):")


def test_lowercase_custom_level_still_parses():
    fmt = TemplateFormat(DASH)
    rec = fmt.parse("2024-01-02 03:04:05,123 - app - success - saved")
    assert fmt.is_start("2024-01-02 03:04:05,123 - app - success - saved")
    assert (rec.level, rec.logger, rec.message) == ("SUCCESS", "app", "saved")


def test_hyphenated_logger_with_dash_separators():
    rec = TemplateFormat("%(name)s-%(levelname)s-%(message)s").parse("my-app-ERROR-x-y")
    assert (rec.logger, rec.level, rec.message) == ("my-app", "ERROR", "x-y")


def test_truncated_levelname():
    template = "%(levelname).1s %(asctime)s %(message)s"
    rec = TemplateFormat(template).parse(formatted(template, "m", level=logging.WARNING))
    assert (rec.level, rec.message) == ("WARNING", "m")


def test_levelno_alone_gives_level():
    rec = TemplateFormat("%(levelno)s|%(message)s").parse("40|bad")
    assert (rec.level, rec.levelno, rec.message) == ("ERROR", 40, "bad")


def test_lines_that_do_not_fit_are_kept_as_text():
    fmt = TemplateFormat(DASH)
    assert not fmt.is_start('  File "x.py", line 1')
    assert not fmt.is_start("garbage line")
    rec = fmt.parse("garbage line\nmore")
    assert rec.message == "garbage line\nmore" and rec.level is None


def test_start_pattern_agrees_with_is_start():
    fmt = TemplateFormat("[%(asctime)s] %(levelname)-8s %(name)s: %(message)s")
    lines = [
        formatted("[%(asctime)s] %(levelname)-8s %(name)s: %(message)s", "ok"),
        "[2024-01-02 03:04:05,123] INFO     app: x",
        "[2024-01-02 03:04:05] INFO app: no millis",
        "Traceback (most recent call last):",
        '  File "a.py", line 3, in f',
        "[not a time] INFO app: x",
        "[2024-01-02 03:04:05,123] INFO     ünï.cödé: x",
    ]
    for line in lines:
        assert bool(fmt.start_pattern.match(line.encode())) == fmt.is_start(line), line


def test_templates_are_cached():
    assert compile_template(DASH) is compile_template(DASH)
    a, b = TemplateFormat(DASH), TemplateFormat(DASH, name="dash")
    assert a._compiled is b._compiled and b.name == "dash"


@pytest.mark.parametrize(
    "template",
    ["", "no fields at all", "%(name)s 100% done", "%(name)", "{0} {message}", "{a.b} {message}"],
)
def test_bad_templates_raise_format_error(template):
    with pytest.raises(FormatError) as info:
        TemplateFormat(template)
    assert str(info.value)


def test_bad_style_raises_format_error():
    with pytest.raises(FormatError, match="name"):
        TemplateFormat("$ {message}", style="$")
    with pytest.raises(FormatError, match="style"):
        TemplateFormat("%(message)s", style="#")


def test_bad_datefmt_raises_format_error():
    with pytest.raises(FormatError, match="%Q"):
        TemplateFormat(DASH, "%Y %Q")


# ---------------------------------------------------------------------------------------------
# Property: any reasonable template, any message, round-trips through a real Formatter.

PRE_FIELDS = [
    "asctime",
    "name",
    "levelname",
    "levelno",
    "process",
    "thread",
    "module",
    "funcName",
    "lineno",
    "filename",
    "msecs",
    "created",
    "threadName",
]
SUFFIX_FIELDS = ["filename", "lineno", "funcName", "process", "module"]
SEPARATORS = [" ", " - ", ":", " | ", "] [", " :: ", "\t", " >> ", ", ", "/"]
LEVELS = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL, 15, 5]
NUMERIC = {"levelno", "process", "thread", "lineno", "msecs", "created"}

logger_names = st.lists(
    st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=3
).map(".".join)
hostile = st.lists(
    st.one_of(
        st.sampled_from(list(" -:|[]{}()%$<>\t\n,./\\'\"") + ["INFO", " - ", "root", "%(name)s"]),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
        st.text(max_size=5),
    ),
    max_size=12,
).map("".join)


def _placeholder(style: str, attr: str, pad: tuple[str, int] | None) -> str:
    numeric = attr in NUMERIC
    if style == "%":
        kind = {"msecs": "03d", "created": "f"}.get(attr, "d" if numeric else "s")
        if pad:
            align, width = pad
            return f"%({attr}){'-' if align == '<' else ''}{width}{kind}"
        return f"%({attr}){kind}"
    if style == "{":
        spec = {"msecs": "03.0f", "created": "f"}.get(attr, "")
        if pad:
            align, width = pad
            spec = f"{align}{width}{spec}"
        return "{" + attr + (":" + spec if spec else "") + "}"
    return "${" + attr + "}"


@st.composite
def templates(draw):
    style = draw(st.sampled_from(["%", "{", "$"]))
    pre = draw(st.lists(st.sampled_from(PRE_FIELDS), min_size=1, max_size=4, unique=True))
    suffix = draw(st.lists(st.sampled_from(SUFFIX_FIELDS), max_size=2, unique=True))
    parts = []
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["[", "<", "** "])))
    for attr in pre:
        pad = None
        if style != "$" and attr in ("levelname", "name") and draw(st.booleans()):
            aligns = ["<", ">"] + (["^"] if style == "{" else [])
            pad = (draw(st.sampled_from(aligns)), draw(st.integers(2, 12)))
        parts.append(_placeholder(style, attr, pad))
        parts.append(draw(st.sampled_from(SEPARATORS)))
    parts.append(_placeholder(style, "message", None))
    for attr in suffix:
        parts.append(draw(st.sampled_from([" [", " (", " @ ", " "])))
        parts.append(_placeholder(style, attr, None))
        parts.append(draw(st.sampled_from(["]", ")", ""])))
    template = "".join(parts)
    if style == "%":
        template = template.replace("%(", "\0").replace("%", "%%").replace("\0", "%(")
    return style, template, pre, suffix


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=templates(),
    message=hostile,
    name=logger_names,
    level=st.sampled_from(LEVELS),
    exc=st.booleans(),
)
def test_property_round_trip(spec, message, name, level, exc):
    style, template, pre, suffix = spec
    assume("Traceback (most recent call last):" not in message)
    fmt = TemplateFormat(template)
    assert fmt.style == style
    text = formatted(template, message, style=style, name=name, level=level, exc=exc)
    first_line = text.split("\n", 1)[0]
    assert fmt.is_start(first_line), (template, text)
    assert fmt.start_pattern.match(first_line.encode()), (template, text)
    rec = fmt.parse(text)
    # Formatter writes "msg\n" + traceback and "msg" + "\n" + traceback alike.
    expected = message.rstrip("\n") if exc and not suffix else message
    assert rec.message == expected, (template, text)
    if "name" in pre:
        assert rec.logger == name
    if "levelname" in pre or "levelno" in pre:
        assert rec.levelno == level
    assert (rec.exc is not None) == exc


# -- record starts: a fixed-shape head is the whole test -------------------------------------


@pytest.mark.parametrize(
    ("template", "datefmt"),
    [
        (DASH, None),
        ("[%(asctime)s] %(levelname)s in %(module)s: %(message)s", None),
        ("%(asctime)s.%(msecs)03d %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S"),
        ("%(asctime)s [%(process)d] [%(levelname)s] %(message)s", "%Y-%m-%d %H:%M:%S %z"),
    ],
)
def test_timestamp_head_gives_an_exact_signature_that_is_start_agrees_with(template, datefmt):
    fmt = TemplateFormat(template, datefmt)
    signature = fmt.start_signature()
    assert signature is not None and signature.exact
    line = formatted(template, "hello", datefmt)
    assert fmt.is_start(line) and fmt.start_pattern.match(line.encode())
    width = len(signature.classes)
    head = line.encode()[:width]
    assert all(b in cls for b, cls in zip(head, signature.classes, strict=True))
    # Each byte of the head is checked: breaking any one of them ends the match.
    for k in range(width):
        broken = line[:k] + "\x00" + line[k + 1 :]
        assert not fmt.is_start(broken) and not fmt.start_pattern.match(broken.encode())
    assert not fmt.is_start(line[: width - 1])


def test_timestamped_line_that_does_not_fit_still_starts_an_unmatched_record():
    fmt = TemplateFormat(DASH)
    odd = "2024-01-02 03:04:05,123 - this line has no level field"
    assert fmt.is_start(odd)
    data = (
        "2024-01-02 03:04:05,000 - app - INFO - first\n" + odd + "\n  continuation\n"
        "2024-01-02 03:04:06,000 - app - ERROR - last\n"
    ).encode()
    splitter = RecordSplitter(fmt)
    raws = splitter.feed(data) + splitter.flush()
    records = [parse_raw_record(fmt, raw) for raw in raws]
    assert [r.level for r in records] == ["INFO", None, "ERROR"]
    assert records[1].message == odd + "\n  continuation"
    assert b"".join(raw.data for raw in raws) == data  # nothing lost


def test_detection_still_tells_templates_with_the_same_time_apart():
    space = TemplateFormat("%(asctime)s %(levelname)s %(name)s %(message)s")
    bracket = TemplateFormat("%(asctime)s [%(levelname)s] %(name)s: %(message)s")
    line = formatted("%(asctime)s [%(levelname)s] %(name)s: %(message)s", "x")
    assert bracket.is_start(line) and not space.is_start(line)  # the next field's first byte
    dash_line = formatted(DASH, "x")
    assert TemplateFormat(DASH).score([dash_line]) == 1.0
    assert space.score([dash_line]) == 0.0 and bracket.score([dash_line]) == 0.0


@pytest.mark.parametrize(
    "template", ["%(levelname)s:%(name)s:%(message)s", "%(name)s %(message)s", "%(message)s"]
)
def test_templates_without_a_time_head_keep_the_prefix_test(template):
    fmt = TemplateFormat(template)
    assert fmt.start_signature() is None
    lines = [formatted(template, "ok"), "info:app:lower-case level", "  File x", "Traceback (most"]
    for line in lines:
        assert bool(fmt.start_pattern.match(line.encode())) == fmt.is_start(line), line


def test_detection_compiles_only_the_chosen_templates_body_and_start_test(tmp_path):
    """Detection scores every known template by its prefixes; the others' whole-body regexes,
    start tests and signatures (most of a start's compiling) are built only when used."""
    import logging

    from logview.formats.detect import _all_candidates, detect, reset_candidates
    from logview.formats.template_compile import compile_template

    path = tmp_path / "app.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
    log = logging.getLogger("lazy.compile")
    log.addHandler(handler)
    log.propagate = False
    for i in range(20):
        log.warning("request %d done", i)
    handler.close()
    compile_template.cache_clear()
    reset_candidates()
    found = detect(path.read_bytes())
    assert found.label == "python-dash"
    record = found.format.parse(path.read_text().splitlines()[3])
    assert (record.logger, record.message) == ("lazy.compile", "request 3 done")
    assert found.format.start_pattern.match(path.read_bytes()) is not None
    deferred = []
    for candidate in _all_candidates():
        compiled = getattr(candidate.scorer, "_compiled", None)
        if compiled is None or candidate.name == "python-dash":
            continue
        deferred.append(not {"body", "start_pattern", "head_signature"} & set(vars(compiled)))
    assert len(deferred) >= 8 and all(deferred)
