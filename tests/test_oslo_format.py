"""OpenStack's oslo.log lines (``formats.oslo``): a traceback written with the head on every
line is one record. ``_REAL`` is what oslo.log 7 wrote (``log.setup(CONF, "nova")`` with a
log file, ``LOG.exception`` of a chained exception under a request context)."""

from __future__ import annotations

from test_infer import read_back

from logview.formats.detect import detect

_REAL = (
    '2026-12-02 00:45:54.681 15586 INFO nova.compute.manager [None req-addc1839-2ed5-4778-b57e-5854eb7b8b09 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - - -] Compute manager starting\n'
    '2026-12-02 00:45:54.682 15586 DEBUG nova.compute.manager [None req-addc1839-2ed5-4778-b57e-5854eb7b8b09 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - - -] Checking power states <module> /opt/nova/compute/manager.py:14\n'
    '2026-12-02 00:45:54.683 15586 WARNING nova.compute.manager [None req-addc1839-2ed5-4778-b57e-5854eb7b8b09 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - - -] While synchronizing instance power states, found 3 instances\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager [None req-addc1839-2ed5-4778-b57e-5854eb7b8b09 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - - -] Error updating resources for node cp-1.: ValueError: resource update failed\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager Traceback (most recent call last):\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager   File "/opt/nova/compute/manager.py", line 20, in <module>\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager     update()\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager   File "/opt/nova/compute/manager.py", line 17, in update\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager     raise RuntimeError("internal error")\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager RuntimeError: internal error\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager \n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager The above exception was the direct cause of the following exception:\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager \n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager Traceback (most recent call last):\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager   File "/opt/nova/compute/manager.py", line 22, in <module>\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager     raise ValueError("resource update failed") from e\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager ValueError: resource update failed\n'
    '2026-12-02 00:45:54.683 15586 ERROR nova.compute.manager \n'
    '2026-12-02 00:45:54.685 15586 INFO nova.compute.manager [None req-addc1839-2ed5-4778-b57e-5854eb7b8b09 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - - -] Final resource view: name=cp-1\n'
    '2026-12-02 00:45:54.685 15586 ERROR nova.compute.manager [None req-addc1839-2ed5-4778-b57e-5854eb7b8b09 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - - -] Instance failed to spawn\n'
)


def test_a_traceback_with_a_head_on_every_line_is_one_record():
    fmt, records = read_back(_REAL)
    assert fmt.name == "oslo"
    assert [r.level for r in records] == ["INFO", "DEBUG", "WARNING", "ERROR", "INFO", "ERROR"]
    error = records[3]
    assert error.logger == "nova.compute.manager"
    assert error.message == "Error updating resources for node cp-1.: ValueError: resource update failed"
    assert error.exc.startswith("Traceback (most recent call last):")
    assert "RuntimeError: internal error" in error.exc
    assert "The above exception was the direct cause of the following exception:" in error.exc
    assert error.exc.rstrip().endswith("ValueError: resource update failed")
    assert "nova.compute.manager" not in error.exc  # the heads are taken off
    assert error.fields["request_id"] == "req-addc1839-2ed5-4778-b57e-5854eb7b8b09"
    assert error.fields["process"] == int(_REAL.split()[2])
    assert records[5].message == "Instance failed to spawn" and records[5].exc is None


def test_error_lines_that_are_messages_still_start_records():
    head = "2024-01-02 03:04:05.678 2931 ERROR nova.compute.manager "
    text = (head + "[-] Error updating resources for node cp-1.\n"
            + head + "Exception: the message a program logged\n"
            + head + "[instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] Instance failed\n"
            + head + "  File \"/opt/nova/x.py\", line 3, in f\n"
            + head.replace("ERROR", "INFO") + "  two spaces: an INFO line is no frame\n"
            + head.replace("ERROR", "WARNING") + "done\n")
    fmt = detect(text.encode()).format
    assert fmt.name == "oslo"
    _, records = read_back(text, fmt)
    assert [r.message for r in records][:2] == [
        "Error updating resources for node cp-1.", "Exception: the message a program logged"]
    assert records[2].fields["instance"] == "b9000564-fe1a-409b-b8cc-1e88b294cd1d"
    # an indented ERROR line is a frame: it continues the record before
    assert records[2].message.splitlines() == ["Instance failed",
                                               '  File "/opt/nova/x.py", line 3, in f']
    assert [r.message for r in records[3:]] == ["  two spaces: an INFO line is no frame", "done"]
