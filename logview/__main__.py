"""Allow ``python -m logview``."""

from logview.cli import run

run()
