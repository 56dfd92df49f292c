"""Allow ``python -m logview``."""

from logview.cli import main

raise SystemExit(main())
