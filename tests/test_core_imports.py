"""The core must never import the UI libraries: --print starts fast and tests need no terminal."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import logview

UI = ("textual", "rich", "pygments")


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(logview.__path__, "logview."):
        if info.name.startswith("logview.tui") or info.name == "logview.__main__":
            continue
        names.append(info.name)
    return names


def test_core_modules_exist():
    assert "logview.record" in core_modules()


def test_core_imports_no_ui_library():
    code = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {UI!r}]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_command_line_starts_without_numpy_or_the_listener():
    """``logview --help`` and argument errors stay fast: numpy, asyncio and the listener load
    only when a store or a socket is needed (they cost ~150 ms and 12 MB)."""
    code = (
        "import sys, logview.cli, logview.boundaries\n"
        "print(','.join(m for m in ('numpy', 'asyncio', 'logview.listen.server')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_numpy_starts_no_blas_threads_under_logview():
    """numpy's OpenBLAS would start a thread per core at import (CPU at every start, and
    spinning under load); logview does no linear algebra, so its command line asks for none."""
    import os

    code = ("import logview.cli, numpy\n"
            "print(open('/proc/self/status').read().split('Threads:')[1].split()[0])\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60, check=False, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
