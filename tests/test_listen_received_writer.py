"""ReceivedRecordsWriter (the listener's spool): JSON lines in the --output jsonl schema,
flushed promptly, in order, thread-safe."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import threading

import orjson
from listen_helpers import make_logger

from logview.listen import LogListener, ReceivedRecordsWriter, parse_listen_address
from logview.printer import JSONL_KEYS
from logview.record import Record


def _lines(path) -> list[dict]:
    with open(path, "rb") as f:
        return [orjson.loads(line) for line in f.read().splitlines()]


def test_records_reach_the_file_promptly_without_close(tmp_path, waiter):
    path = tmp_path / "spool.jsonl"
    spool = ReceivedRecordsWriter(path)
    try:
        spool.write(Record(message="one", logger="a", fields={"k": 1}))
        waiter(lambda: path.stat().st_size > 0, timeout=1)
        (line,) = _lines(path)
        assert tuple(line) == JSONL_KEYS
        assert line["message"] == "one" and line["fields"] == {"k": 1}
    finally:
        spool.close()


def test_many_threads_keep_per_thread_order_and_every_record(tmp_path):
    path = tmp_path / "spool.jsonl"
    spool = ReceivedRecordsWriter(path, max_buffer=4096)

    def writer(name: str) -> None:
        for i in range(2000):
            spool(Record(message=str(i), logger=name))

    threads = [threading.Thread(target=writer, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spool.close()
    lines = _lines(path)
    assert len(lines) == 8000 and spool.count == 8000
    for n in range(4):
        assert [int(x["message"]) for x in lines if x["logger"] == f"t{n}"] == list(range(2000))


def test_temporary_spool_is_removed_unless_kept():
    spool = ReceivedRecordsWriter()
    path = spool.path
    spool.write(Record(message="x"))
    spool.close()
    assert not os.path.exists(path)
    kept = ReceivedRecordsWriter(keep=True)
    kept.close()
    assert os.path.exists(kept.path)
    os.unlink(kept.path)


def test_stream_target_for_headless_jsonl():
    out = io.BytesIO()
    spool = ReceivedRecordsWriter(stream=out)
    spool.write(Record(message="to stdout"))
    spool.close()
    assert orjson.loads(out.getvalue())["message"] == "to stdout"


def test_listener_into_spool_end_to_end(tmp_path, waiter):
    path = tmp_path / "spool.jsonl"
    spool = ReceivedRecordsWriter(path)
    listener = LogListener([parse_listen_address("0")], spool)
    listener.start()
    try:
        port = next(b[2] for b in listener.bound if b[0] == "tcp")
        handler = logging.handlers.SocketHandler("127.0.0.1", port)
        log = make_logger("spooled", handler)
        for i in range(100):
            log.info("n=%d", i)
        waiter(lambda: path.stat().st_size and len(_lines(path)) == 100)
        handler.close()
    finally:
        listener.stop()
        spool.close()
    lines = _lines(path)
    assert [x["message"] for x in lines] == [f"n={i}" for i in range(100)]
    assert lines[0]["logger"] == "spooled" and lines[0]["time"]
    assert lines[0]["source"].startswith("tcp:127.0.0.1:")
