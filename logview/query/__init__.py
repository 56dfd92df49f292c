"""The query language of logview, shared by the TUI's filter bar and ``--print -q``.

Terms separated by spaces must all match; ``or`` joins alternatives (looser than the spaces:
``a b or c`` is ``(a and b) or c``); ``not`` or a leading ``-`` negates; parentheses group.

Text
    ``timeout``, ``"connection reset"``  case-insensitive substring of the message, the
    exception text or the logger name (not the extra fields: use ``key=value`` for those).
    ``/regex/``, ``/regex/i``  regex searched in message and exception text (``\\/`` is a
    slash; flags i, m, s). Quote words that look like syntax: ``"or"``, ``"-1"``, ``"/api"``.
Levels
    ``level>=warning``, ``level=error``, ``level<info``, ``level!=debug``, ``level>=30``.
    Names are case-insensitive and aliases work (warn, err, fatal, crit...).
Loggers
    ``logger:app.db``  app.db and its children (app.db.pool, not app.dbx);
    ``logger=app.db`` exactly; ``logger~regex``.
Fields (extra data of structured logs)
    ``user=alice``, ``status!=200``, ``path~^/api``, ``http.status>=500`` (dots reach nested
    objects). ``=`` compares text case-sensitively, or numbers when both sides are numbers
    ("503" counts as a number). ``!=`` and comparisons need the field to be present;
    ``-user=alice`` also matches records without ``user``.
Built-in names
    ``message``/``msg`` (``msg:word`` contains, ``msg=…`` exact, ``msg~re``), ``source``,
    ``line>=100``, ``time>=2024-01-02``; ``has:exc``, ``has:KEY`` (a field is present),
    ``has:logger``, ``has:time``.
Time
    ``since:2024-01-02``, ``since:2024-01-02T03:04``, ``since:"2024-01-02 03:04:05"``,
    ``since:-15m`` (also s, h, d, w; today, yesterday, now), ``until:…`` (strictly before).
    Times without a zone are local time; records without a time never match since/until.

An empty query matches everything. Errors name the column of the offending token.
"""

from __future__ import annotations

from logview.query.errors import QueryError
from logview.query.plan import Query, all_of, parse_query
from logview.query.prefilter import Prefilter

#: A compact cheat-sheet for ``--help`` and the TUI help screen.
QUERY_HELP = """\
Query language (terms separated by spaces must all match):
  word  "a phrase"      case-insensitive text in message, traceback or logger name
  /regex/  /regex/i     regex in message and traceback
  a b or c              'or' is looser than spaces: (a and b) or c
  not x   -x   ( ... )  negate, group
  level>=warning        also = != < <= >; names, aliases (warn, err) or numbers (30)
  logger:app.db         app.db and its children; logger=app.db exactly
  key=value  key!=v     extra fields; text or numbers ("503" = 503)
  key~regex  key>=500   regex on a field, numeric comparison; dots reach nested: http.status
  msg:word  msg~re      the message only; also source:, line>=N
  has:exc  has:key      has a traceback / a field (has:logger, has:time)
  since:2024-01-02      also since:2024-01-02T03:04, since:"2024-01-02 03:04:05"
  since:-15m            relative: s m h d w; until:... is strictly before
Quote words that look like syntax: "or" "-1" "/api/v1"."""

__all__ = ["QUERY_HELP", "Prefilter", "Query", "QueryError", "all_of", "parse_query"]
