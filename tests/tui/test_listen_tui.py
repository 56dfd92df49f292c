"""The viewer on ``--listen``: records from real SocketHandlers appear live, each with its client.

The store is built exactly as ``logview --listen`` builds it (``build_parser`` ->
``build_sources`` -> ``build_store``), so this covers listener -> spool -> followed file ->
store -> record list.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re

import pytest

from logview.cli import build_parser, build_sources
from logview.store import build_store
from logview.tui.app import LogviewApp
from logview.tui.widgets.detail import DetailScreen
from logview.tui.widgets.query_bar import QueryBar
from logview.tui.widgets.record_list import RecordList
from tui.conftest import screen_text, until


@pytest.fixture
def listening(tmp_path, monkeypatch):
    """A running ``--listen 127.0.0.1:0`` session and its store; stopped afterwards."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the temporary spool lands here
    monkeypatch.setattr("tempfile.tempdir", None)
    args = build_parser().parse_args(["--listen", "127.0.0.1:0"])
    sources, session = build_sources(args, tui=True)
    store = build_store(sources, None)
    yield session, store
    session.stop()
    store.close()
    assert not list(tmp_path.glob("logview-listen-*"))  # the temporary spool is removed


def _sender(name: str, port: int) -> tuple[logging.Logger, logging.Handler]:
    handler = logging.handlers.SocketHandler("127.0.0.1", port)
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, handler


async def test_socket_handler_records_show_up_live_with_their_client(listening):
    session, store = listening
    port = next(int(b[2]) for b in session.listener.bound if b[0] == "tcp")
    app = LogviewApp(store)
    async with app.run_test(size=(120, 30)) as pilot:
        records = app.screen.query_one(RecordList)
        assert f"listening on tcp 127.0.0.1:{port}" in screen_text(app)
        assert records.row_count == 0

        first, first_handler = _sender("svc.alpha", port)
        second, second_handler = _sender("svc.beta", port)
        first.info("alpha says hello")
        second.warning("beta is slow")
        first.info("alpha again")
        # (two connections' records have no order between them: the exception is sent once
        # the others are shown, so that it is the newest record below)
        await until(pilot, lambda: records.row_count == 3)
        try:
            raise RuntimeError("beta broke")
        except RuntimeError:
            second.exception("beta failed")
        first_handler.close()
        second_handler.close()

        await until(pilot, lambda: records.row_count == 4)
        await until(pilot, lambda: "beta failed" in screen_text(app))
        text = screen_text(app)
        for message in ("alpha says hello", "beta is slow", "alpha again", "beta failed"):
            assert message in text

        shown = [store.record(records.position_at(row)) for row in range(records.row_count)]
        by_logger = {r.logger: r.source for r in shown}
        # Each client is its connection and the process that wrote the record (this one),
        # never a logger: one process logs through many loggers.
        for source in by_logger.values():
            assert re.fullmatch(rf"tcp:127\.0\.0\.1:\d+ \(pid {os.getpid()}\)", source)
        assert by_logger["svc.alpha"] != by_logger["svc.beta"]
        # Two clients of one process: the column tells them apart by port, and what it shows
        # can be typed into source:.
        beta_port = by_logger["svc.beta"].split(" ")[0].rsplit(":", 1)[1]
        tag = f"pid {os.getpid()}:{beta_port}"
        await until(pilot, lambda: tag in screen_text(app))  # the column comes with the counts
        app.screen.query_one(QueryBar).submit(f'source:"{tag}"')
        await until(pilot, lambda: records.positions is not None and records.row_count == 2)
        assert {store.record(records.position_at(row)).logger
                for row in range(records.row_count)} == {"svc.beta"}
        app.screen.query_one(QueryBar).submit("")
        await until(pilot, lambda: records.positions is None)

        # The detail of the newest record (the list follows the end) names its client.
        await pilot.press("end", "enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        # (the screen is pushed before it is drawn: on a busy machine the text read at once
        # could still be the list's)
        detail = await until(pilot, lambda: (text := screen_text(app)) and "RuntimeError" in text
                             and text)
        assert by_logger["svc.beta"] in detail
        assert "RuntimeError: beta broke" in detail


def test_status_names_the_addresses_and_warns_when_open_to_the_network(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    for spec, open_to_network in (("127.0.0.1:0", False), ("0.0.0.0:0", True)):
        args = build_parser().parse_args(["--listen", spec])
        sources, session = build_sources(args, tui=True)
        try:
            store = build_store(sources, None)
            assert store.name == f"listening on {session.where}" + (
                " (open to the network)" if open_to_network else "")
            store.close()
        finally:
            session.stop()
