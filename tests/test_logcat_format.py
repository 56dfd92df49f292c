"""Android's logcat lines: levels from one letter, the tag as the logger, pid and tid, both
``threadtime`` (the default) and ``time`` lines. No Android device or emulator here: the
lines are as ``adb logcat`` writes them (the loghub Android sample's shape)."""

from __future__ import annotations

import subprocess
import sys

import orjson
from test_infer import read_back

_THREADTIME = """\
--------- beginning of main
03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogsopening app wtoken = AppWindowToken{9f4ef63 token=Token{a64f992}}, allDrawn= false
03-17 16:13:38.819  1702  8671 V PowerManagerService: acquire lock=233570404, flags=0x1, tag="View Lock"
03-17 16:13:38.820  1702  8671 W PowerManagerService: release:lock=233570404, flg=0x0
03-17 16:13:38.839  1702  2113 I ActivityManager: Start proc 12345:com.example/u0a100 for activity
--------- beginning of crash
03-17 16:13:39.001 12345 12345 E AndroidRuntime: FATAL EXCEPTION: main
03-17 16:13:39.001 12345 12345 E AndroidRuntime: Process: com.example, PID: 12345
03-17 16:13:39.002 12345 12345 F libc    : Fatal signal 6 (SIGABRT), code -6 in tid 12345
03-17 16:13:39.003  1702  1720 A DEBUG   : Abort message: 'assertion failed'
"""

_TIME = """\
03-17 16:13:38.811 D/WindowManager( 1702): printFreezingDisplayLogs
03-17 16:13:38.820 W/PowerManagerService( 1702): release:lock=233570404
03-17 16:13:39.001 E/AndroidRuntime(12345): FATAL EXCEPTION: main
"""


def _records(text: str):
    return read_back(text)


def test_threadtime_lines_have_levels_tags_and_ids():
    # Before: plain text, no level, no time, no logger.
    fmt, records = _records(_THREADTIME)
    assert fmt.name == "logcat"
    assert [r.level for r in records] == [None, "DEBUG", "DEBUG", "WARNING", "INFO", None,
                                          "ERROR", "ERROR", "CRITICAL", "CRITICAL"]
    assert records[0].message == "--------- beginning of main"
    assert records[3].logger == "PowerManagerService" and records[3].fields == {"pid": 1702,
                                                                               "tid": 8671}
    assert records[8].logger == "libc" and records[8].message.startswith("Fatal signal 6")
    assert (records[1].time.month, records[1].time.day, records[1].time.microsecond) == (
        3, 17, 811000)
    assert records[1].time_text == "03-17 16:13:38.811"
    for line in _THREADTIME.splitlines() + _TIME.splitlines():
        assert bool(fmt.start_pattern.match(line.encode())) == fmt.is_start(line), line


def test_time_lines_and_a_year():
    fmt, records = _records(_TIME)
    assert fmt.name == "logcat"
    assert [(r.level, r.logger, r.fields) for r in records] == [
        ("DEBUG", "WindowManager", {"pid": 1702}), ("WARNING", "PowerManagerService",
                                                    {"pid": 1702}),
        ("ERROR", "AndroidRuntime", {"pid": 12345})]
    assert records[2].message == "FATAL EXCEPTION: main"
    record = fmt.parse("2023-03-17 16:13:38.811  1702  2395 E Tag: with a year")
    assert (record.time.year, record.level, record.message) == (2023, "ERROR", "with a year")


def test_a_level_query_finds_the_errors(tmp_path):
    path = tmp_path / "logcat.txt"
    path.write_text(_THREADTIME * 50)
    out = subprocess.run([sys.executable, "-m", "logview", str(path), "--print", "-q",
                          "level>=ERROR", "-o", "jsonl"], capture_output=True, check=True,
                         timeout=60).stdout
    printed = [orjson.loads(line) for line in out.splitlines()]
    assert len(printed) == 200
    assert {(p["level"], p["logger"]) for p in printed} == {
        ("ERROR", "AndroidRuntime"), ("CRITICAL", "libc"), ("CRITICAL", "DEBUG")}
