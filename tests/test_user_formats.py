"""User formats from $XDG_CONFIG_HOME/logview/formats.toml: loading, detection, --format, and
files or entries that are wrong (a warning, never a failure to start)."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from logview.boundaries import RecordSplitter
from logview.formats import detect
from logview.formats.base import FormatError
from logview.formats.config import default_config_dir, format_from_entry, user_formats
from logview.formats.jsonl import JsonFormat
from logview.formats.template import TemplateFormat
from logview.record import parse_raw_record

MYAPP = "%(asctime)s | %(levelname)s | %(name)s | %(message)s"
CONFIG = """\
[formats.myapp]
template = "%(asctime)s | %(levelname)s | %(name)s | %(message)s"
datefmt = "%Y-%m-%d %H:%M:%S"
style = "%"
levels = { AUDIT = 25 }

[formats.myjson]
json = { time = "ts", level = "sev", message = "text", logger = "component" }
"""


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty XDG config home for this test; the candidates are rebuilt before and after."""
    home = tmp_path / "config"
    (home / "logview").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    detect.reset_candidates()
    yield home
    monkeypatch.undo()
    detect.reset_candidates()


def write_config(home: Path, text: str | bytes) -> Path:
    path = home / "logview" / "formats.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    detect.reset_candidates()
    return path


def myapp_log(path: Path) -> None:
    """The real logging module writing MYAPP, a custom AUDIT level and a traceback."""
    logging.addLevelName(25, "AUDIT")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(MYAPP, datefmt="%Y-%m-%d %H:%M:%S"))
    logger = logging.Logger("shop.orders")  # noqa: LOG001 - private, not in the global registry
    logger.addHandler(handler)
    for n in range(12):
        logger.info("order %d placed", n)
        logger.log(25, "refund %d approved by | alice", n)
    try:
        raise RuntimeError("payment gateway down")
    except RuntimeError:
        logger.exception("charge failed")
    handler.close()


def parse_all(fmt, data: bytes):
    splitter = RecordSplitter(fmt)
    return [parse_raw_record(fmt, raw, "t") for raw in splitter.feed(data) + splitter.flush()]


def run(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "XDG_CONFIG_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "logview", *args], capture_output=True,
                          check=False, timeout=60, env=env)


# ---------------------------------------------------------------------------------------------
# Loading


def test_loads_template_and_json_formats(config_home):
    write_config(config_home, CONFIG)
    formats, warnings = user_formats()
    assert warnings == []
    myapp, myjson = formats
    assert isinstance(myapp, TemplateFormat)
    assert (myapp.name, myapp.template, myapp.datefmt) == ("myapp", MYAPP, "%Y-%m-%d %H:%M:%S")
    assert myapp.custom_levels == {"AUDIT": 25}
    assert isinstance(myjson, JsonFormat) and myjson.name == "myjson"
    assert myjson.keys == {"time": "ts", "level": "sev", "message": "text", "logger": "component"}


def test_no_file_no_formats(config_home):
    assert user_formats() == ([], [])
    assert detect.user_format_warnings() == []


def test_config_dir_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "x"))
    assert default_config_dir() == tmp_path / "x" / "logview"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")  # the spec says: ignore it
    assert default_config_dir() == tmp_path / "home" / ".config" / "logview"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert default_config_dir() == tmp_path / "home" / ".config" / "logview"
    write_dir = tmp_path / "explicit"
    write_dir.mkdir()
    (write_dir / "formats.toml").write_text('[formats.a]\njson = { message = "m" }\n')
    formats, _ = user_formats(write_dir)
    assert [f.name for f in formats] == ["a"]


# ---------------------------------------------------------------------------------------------
# Detection and --format


def test_detection_picks_the_user_template(config_home, tmp_path):
    write_config(config_home, CONFIG)
    log = tmp_path / "shop.log"
    myapp_log(log)
    data = log.read_bytes()
    fmt = detect.detect_format(data)
    assert fmt.name == "myapp"
    records = parse_all(fmt, data)
    assert len(records) == 25
    audit = records[1]
    assert (audit.level, audit.levelno, audit.logger) == ("AUDIT", 25, "shop.orders")
    assert audit.message == "refund 0 approved by | alice"
    assert audit.time is not None and audit.time.year >= 2024
    assert records[-1].exc.endswith("RuntimeError: payment gateway down")
    assert detect.detect(data).label == "myapp"


def test_detection_picks_the_user_json_mapping(config_home, tmp_path):
    """python-json-logger with renamed fields: only the mapping knows 'sev' and 'text'."""
    from pythonjsonlogger.json import JsonFormatter

    write_config(config_home, CONFIG)
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "ts", "levelname": "sev", "message": "text",
                       "name": "component"}))
    logger = logging.Logger("billing")  # noqa: LOG001 - private, not in the global registry
    logger.addHandler(handler)
    logger.warning("card expired", extra={"customer": 42})
    logger.error("refund failed")
    data = buf.getvalue().encode()
    fmt = detect.detect_format(data)
    assert fmt.name == "myjson"
    warning, error = parse_all(fmt, data)
    assert (warning.level, warning.message, warning.logger) == ("WARNING", "card expired",
                                                                "billing")
    assert warning.time is not None and warning.fields == {"customer": 42}
    assert (error.level, error.message) == ("ERROR", "refund failed")
    # Other JSON lines are not claimed by the mapping: they stay "jsonl".
    other = b'{"time": "2024-01-02T03:04:05Z", "level": "info", "message": "hi"}\n' * 3
    assert detect.detect_format(other).name == "jsonl"


def test_format_option_names_user_formats(config_home):
    write_config(config_home, CONFIG)
    assert "myapp" in detect.format_names() and "myjson" in detect.format_names()
    fmt = detect.format_from_option("myapp")
    assert isinstance(fmt, TemplateFormat) and fmt.datefmt == "%Y-%m-%d %H:%M:%S"
    assert detect.format_from_option("myapp") is not fmt  # a fresh one per store
    assert detect.format_from_option("MyApp", "%H:%M:%S").datefmt == "%H:%M:%S"
    assert detect.format_from_option("myapp").custom_levels == {"AUDIT": 25}
    assert detect.format_from_option("myjson").keys["level"] == "sev"
    with pytest.raises(FormatError, match="does not apply"):
        detect.format_from_option("myjson", "%H:%M")


def test_print_with_format_option(config_home, tmp_path):
    write_config(config_home, CONFIG)
    log = tmp_path / "shop.log"
    myapp_log(log)
    # A level query must not skip AUDIT records because their level name is not a known one.
    result = run("--print", "-o", "jsonl", "--format", "myapp", "-q", "level>=25", str(log),
                 home=config_home)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    rows = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [r["level"] for r in rows] == ["AUDIT"] * 12 + ["ERROR"]
    assert {r["logger"] for r in rows} == {"shop.orders"}
    assert b"myapp" in run("--help", home=config_home).stdout  # the epilog shows the file


# ---------------------------------------------------------------------------------------------
# What is wrong is said, and logview still runs


def test_broken_toml_is_one_warning_and_logview_runs(config_home, tmp_path):
    path = write_config(config_home, '[formats.myapp]\ntemplate = "%(message)s\n')
    formats, warnings = user_formats()
    assert formats == []
    assert len(warnings) == 1 and str(path) in warnings[0] and "not valid TOML" in warnings[0]
    assert "line 2" in warnings[0]
    log = tmp_path / "shop.log"
    myapp_log(log)
    result = run("--print", "-q", "level>=ERROR", str(log), home=config_home)
    assert result.returncode == 0
    assert result.stdout.count(b"charge failed") == 1
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"logview: warning: {path}: not valid TOML")
    # --format NAME of the broken file then says the name is unknown, after the warning.
    result = run("--print", "--format", "myapp", str(log), home=config_home)
    assert result.returncode == 2
    assert b"not valid TOML" in result.stderr and b"unknown format 'myapp'" in result.stderr


@pytest.mark.parametrize("entry, problem", [
    ('template = "no fields here"', "has no fields"),
    ('template = "%(asctime)s %(message)s"\ndatefmt = "%Q"', "unknown strftime directive"),
    ('template = "%(message)s"\nstyle = "?"', "style must be one of"),
    ('template = "%(message)s"\nlevels = { AUDIT = "high" }', "level 'AUDIT' needs a positive"),
    ('template = "%(message)s"\nlevels = [1]', "levels must be a table"),
    ('template = "%(message)s"\ntempalte = "x"', "unknown key 'tempalte'"),
    ('template = 3', "template must be a logging format string"),
    ('datefmt = "%H"', "found neither"),
    ('template = "%(message)s"\njson = { message = "m" }', "not both"),
    ('json = { msg = "m" }', "unknown json role 'msg'"),
    ('json = { message = 1 }', "json.message must be a key name"),
    ('json = {}', "json must map roles to keys"),
    ('json = { message = "m" }\ndatefmt = "%H"', "unknown key 'datefmt' beside json"),
])
def test_bad_entries_are_named_and_left_out(config_home, entry, problem):
    path = write_config(config_home, f"[formats.bad]\n{entry}\n\n[formats.good]\n"
                                     f'template = "%(levelname)s %(message)s"\n')
    formats, warnings = user_formats()
    assert [f.name for f in formats] == ["good"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{path}: format 'bad': ") and problem in warnings[0]
    assert detect.user_format_warnings() == warnings
    assert "good" in detect.format_names() and "bad" not in detect.format_names()


@pytest.mark.parametrize("text, problem", [
    ("[format.myapp]\ntemplate = '%(message)s'\n", "unknown key 'format'"),
    ("formats = 3\n", "'formats' must be a table"),
    ("[formats]\nmyapp = 'x'\n", "expected a table"),
    ('[formats."my app"]\ntemplate = "%(message)s"\n', "a name is letters"),
    (b"\xff\xfe[formats]\n", "not UTF-8"),
])
def test_bad_files(config_home, text, problem):
    path = write_config(config_home, text)
    formats, warnings = user_formats()
    assert formats == [] and len(warnings) == 1
    assert warnings[0].startswith(str(path)) and problem in warnings[0]


def test_unreadable_file(config_home):
    path = config_home / "logview" / "formats.toml"
    path.mkdir()
    formats, warnings = user_formats()
    assert formats == [] and warnings[0].startswith(f"{path}: cannot read it")


def test_builtin_names_cannot_be_taken(config_home):
    path = write_config(config_home, '[formats.JSONL]\njson = { message = "m" }\n'
                                     '[formats.kv]\ntemplate = "%(message)s"\n')
    assert detect.format_names().count("jsonl") == 1
    assert type(detect.format_from_option("jsonl")) is JsonFormat
    assert detect.format_from_option("jsonl").keys == {}
    warnings = detect.user_format_warnings()
    assert len(warnings) == 2 and all(w.startswith(f"{path}: format ") for w in warnings)
    assert "'JSONL': the name is taken" in warnings[0] and "'kv'" in warnings[1]


def test_format_from_entry_raises_format_error():
    with pytest.raises(FormatError, match=r"x\.toml: format 'n': give either"):
        format_from_entry("n", {}, "x.toml")
