from __future__ import annotations

from logview.record import (
    level_from_name,
    level_from_pino,
    level_from_syslog,
    parse_level_value,
    printable,
    split_exception,
    strip_ansi,
)


def test_level_aliases():
    assert level_from_name("warn") == ("WARNING", 30)
    assert level_from_name("ERR") == ("ERROR", 40)
    assert level_from_name("fatal") == ("CRITICAL", 50)
    assert level_from_name("EMERG") == ("CRITICAL", 50)
    assert level_from_name("notice") == ("NOTICE", 25)
    assert level_from_name("trace") == ("TRACE", 5)
    assert level_from_name("SUCCESS") == ("SUCCESS", 0)
    assert level_from_name("Level 15") == ("LEVEL 15", 15)


def test_numeric_levels():
    assert level_from_pino(50) == ("ERROR", 40)
    assert level_from_pino(60) == ("CRITICAL", 50)
    assert level_from_syslog(3) == ("ERROR", 40)
    assert level_from_syslog(0) == ("CRITICAL", 50)
    assert parse_level_value(30, numeric="pino") == ("INFO", 20)
    assert parse_level_value(30) == ("WARNING", 30)
    assert parse_level_value("40") == ("ERROR", 40)


def test_strip_ansi_and_printable():
    assert strip_ansi("\x1b[31mred\x1b[0m \x1b]0;title\x07x") == "red x"
    safe = printable("a\x1b[2Jb\x07c\td\ne\x9bz")
    assert "\x1b" not in safe and "\x07" not in safe and "\x9b" not in safe
    assert "\t" in safe and "\n" in safe


def test_split_exception():
    text = "boom\nmore\nTraceback (most recent call last):\n  File \"x\", line 1\nValueError: x"
    message, exc = split_exception(text)
    assert message == "boom\nmore"
    assert exc.startswith("Traceback") and exc.endswith("ValueError: x")
    assert split_exception("one line") == ("one line", None)


def test_a_jvm_stack_trace_is_the_exception():
    from logview.record import split_exception

    text = ('worker died\nException in thread "main" java.lang.IllegalStateException: x\n'
            "\tat com.example.App.main(App.java:5)\n")
    assert split_exception(text) == ("worker died", text.split("\n", 1)[1].rstrip("\n"))
    # a dotted word and a colon alone, with no "at" frame after it, is message text
    assert split_exception("done\norg.example.Note: see the docs")[1] is None
