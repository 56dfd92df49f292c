"""Command line: parse arguments, build sources and the query, then print or start the TUI.

The only module that knows both halves: the core (sources, formats, store, engine, printer,
listener) and the Textual app, which is imported only when the TUI actually runs.
"""

from __future__ import annotations

import argparse
import atexit
import os
import re
import signal
import sys
from contextlib import suppress
from typing import TYPE_CHECKING

from logview import __version__
from logview.formats.base import FormatError, LogFormat
from logview.record import printable
from logview.sources.base import ByteSource, SourceError

if TYPE_CHECKING:
    from logview.listen.session import ListenSession

# numpy's OpenBLAS starts a thread per core when numpy is imported, and logview does no
# linear algebra: at every start those threads cost CPU (0.1 s of it here, more under load,
# where a --print of a small file took 25% longer). Set before anything imports numpy (this
# module's imports do not); a user's own setting is kept, and the fork server's fresh
# interpreter inherits it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

EXAMPLES = """\
examples:
  logview app.log                        open a file in the viewer and follow it
  logview --demo                         a live demo stream, nothing else needed
  logview /var/log/myapp/ --rotated      a directory, rotated members included
  kubectl logs -f pod | logview          view piped input, keys still work
  logview --listen 9020                  receive records from logging.handlers.SocketHandler
  logview journal:                       the local journal (run through journalctl)
  logview journal:/var/log/journal/remote/ --print -q 'level>=ERROR _SYSTEMD_UNIT=app.service'
                                         journals of many hosts (systemd-journal-remote): the
                                         host is each record's source; journalctl filters
                                         what it can of the query (see --explain)
  logview clickhouse://reader@ch.example.com/otel --print -q 'level>=ERROR logger:app.db'
                                         OpenTelemetry logs in ClickHouse (table otel_logs, HTTP
                                         interface; clickhouses:// for HTTPS; the password in
                                         $LOGVIEW_CLICKHOUSE_PASSWORD): ClickHouse filters what
                                         it can of the query (see --explain); the viewer reads
                                         the newest 50,000 rows and follows
  logview app.log --print -q 'level>=ERROR since:-1h'
  logview app.log --print -q 'logger:app.db /timeout/i' --output jsonl | jq .message
  logview --explain app.log               which format it is read as (inferred template, fit)
  logview app.log --format '%(asctime)s %(levelname)-8s %(name)s: %(message)s'
  logview --no-session app.log           no query history, theme, layout or place restored
                                         or saved (kept in $XDG_STATE_HOME/logview/)

in the viewer, ? lists every key: / find (less's and lnav's: every record stays shown, n N
  go through the hits), & filter (as less's &pattern), 1-5 minimum level, e E w W errors and
  warnings, z every record expanded in place, m mark, s export, : go to, F the filter list, q quit

your own formats: name them in $XDG_CONFIG_HOME/logview/formats.toml (~/.config/...)
  [formats.myapp]
  template = "%(asctime)s | %(levelname)s | %(name)s | %(message)s"
  [formats.myjson]
  json = { time = "ts", level = "sev", message = "text", logger = "component" }
  then detection tries them first, and --format myapp picks one.
  Redaction rules of your own, and --redact by default, in config.toml beside it:
  [redact]
  enabled = true
  rules = { customer_id = 'cust-[0-9]{6}' }

exit status: 0 records printed (or the viewer closed; SIGTERM or SIGHUP stopped following),
             1 --print matched nothing, 2 an error (missing file, bad query, bad format
             string, port in use, journalctl or ClickHouse failing), 130 interrupted by Ctrl-C (what was
             read is printed).
"""


class CliError(Exception):
    """A problem with what the user asked for; printed as one line, exit status 2."""


def _query_help() -> str:
    from logview.query import QUERY_HELP

    return QUERY_HELP.rstrip() + "\n\n"


def _size_option(text: str) -> int:
    """``--spool-max``: a size (0 or at least ``MIN_CAP``)."""
    from logview.sources.spool import MIN_CAP, format_size, parse_size

    try:
        size = parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if 0 < size < MIN_CAP:
        raise argparse.ArgumentTypeError(f"{text}: give at least {format_size(MIN_CAP)}, or 0 "
                                         "for no cap")
    return size


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with examples and the query cheat-sheet in ``--help``."""
    parser = argparse.ArgumentParser(
        prog="logview",
        description="View, follow and query logs: files, rotated sets, pipes, stdin and "
        "live records from Python's logging handlers.",
        epilog=_query_help() + EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sources", nargs="*", metavar="SOURCE",
                        help="files, directories, rotated sets, named pipes, '-' for stdin, "
                        "journal: (the local journal), journal:PATH (a journal directory or "
                        "file) or clickhouse://[user@]host[:port]/database[/table] (OpenTelemetry "
                        "otel_logs; password in $LOGVIEW_CLICKHOUSE_PASSWORD)")
    parser.add_argument("-q", "--query", default="", help="filter records (see below)")
    parser.add_argument("-p", "--print", dest="print_", action="store_true",
                        help="print matching records instead of opening the viewer")
    parser.add_argument("-o", "--output", choices=("text", "jsonl"), default="text",
                        help="--print output: text (default: a text log's records as "
                        "written, byte for byte into a pipe or a file; a JSON record as one "
                        "line of time, level, logger, message and fields; on a terminal "
                        "control characters shown as symbols) or JSON lines")
    parser.add_argument("-f", "--follow", action="store_true",
                        help="with --print: keep printing new records until Ctrl-C")
    parser.add_argument("--no-follow", action="store_true",
                        help="in the viewer: read files as they are, do not follow them")
    parser.add_argument("--format", metavar="FMT",
                        help="force a format: a name (jsonl, logfmt, syslog, plain, ...) or a "
                        "logging format string such as '%%(asctime)s %%(levelname)s %%(message)s'")
    parser.add_argument("--datefmt", metavar="DATEFMT",
                        help="the strftime pattern of %%(asctime)s in --format")
    parser.add_argument("--explain", action="store_true",
                        help="say which format each source is read as (the inferred logging "
                        "template, how many lines it fits, the runner-up), for journal: and "
                        "clickhouse:// inputs what the store filters itself, and exit")
    parser.add_argument("--rotated", action="store_true",
                        help="also read the rotated members beside each file (app.log.1, .gz...)")
    parser.add_argument("--listen", action="append", default=[], metavar="[HOST:]PORT",
                        help="receive records on TCP+UDP PORT (127.0.0.1 unless HOST is given) "
                        "or unix:/PATH; repeatable")
    parser.add_argument("--save", metavar="FILE",
                        help="with --listen: keep received records in FILE (JSON lines)")
    parser.add_argument("--spool-max", type=_size_option, metavar="SIZE",
                        help="keep at most SIZE of piped input (stdin, named pipes) on disk, "
                        "e.g. 500M, 2G, 1.5GiB or bytes (K, M, G: powers of 1024); past it "
                        "the oldest part, once read, is dropped and a warning says how much "
                        "(default: 8G or half the free space of $TMPDIR, whichever is less; "
                        "0: no cap)")
    parser.add_argument("--max-frame", type=int, default=1 << 20, metavar="BYTES",
                        help="with --listen: largest accepted frame (default 1 MiB)")
    parser.add_argument("--demo", action="store_true",
                        help="a built-in live demo stream (no files needed)")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour --print text output (auto: on a terminal, unless NO_COLOR)")
    parser.add_argument("--no-session", action="store_true",
                        help="in the viewer: neither restore nor save the session (query "
                        "history, theme, layout, the place in each file), kept in "
                        "$XDG_STATE_HOME/logview/ (~/.local/state/logview/)")
    parser.add_argument("--redact", nargs="?", const="", metavar="RULES",
                        help="mask e-mail addresses, IP addresses, tokens, keys, secrets and "
                        "card numbers in everything shown, copied and printed, as [email], "
                        "[ipv4]...: all rules (or config.toml's [redact] use), or the named "
                        "ones, e.g. --redact=email,ipv4,card (rules: secret, token, jwt, key, "
                        "email, ipv6, ipv4, card and your own; --redact-rules says what each "
                        "masks); the query reads the redacted text")
    parser.add_argument("--redact-rules", action="store_true",
                        help="list the redaction rules (your config.toml's included) and exit")
    parser.add_argument("--redact-search-original", action="store_true",
                        help="with --redact: the query reads the original text (a search for "
                        "an address finds its records), while everything shown stays redacted")
    parser.add_argument("--no-redact", action="store_true",
                        help="do not redact, even when config.toml's [redact] enabled = true")
    parser.add_argument("--version", action="version", version=f"logview {__version__}")
    return parser


def attach_query_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``-q VALUE`` / ``--query VALUE`` as ``--query=VALUE`` when VALUE starts with ``-``.

    argparse takes ``-q -logger:app`` for two options. Like getopt, an option that needs a
    value gets the next argument whatever it looks like; only ``--`` (the end of options) is
    never taken as the query. Values of the other options are skipped, not looked into.
    """
    actions = parser._option_string_actions
    longs = [name for name in actions if name.startswith("--")]
    query = actions["--query"]
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            out.extend(argv[i - 1:])
            break
        if arg[:1] != "-" or arg == "-" or (arg.startswith("--") and "=" in arg):
            out.append(arg)
            continue
        if arg.startswith("--"):
            matches = [name for name in longs if name.startswith(arg)]
            action = actions.get(arg) or (actions[matches[0]] if len(matches) == 1 else None)
            head = ""
        else:  # -abc: flags then at most one option that takes a value (the rest of the arg)
            action, head = None, arg
            for end, char in enumerate(arg[1:], 2):
                found = actions.get("-" + char)
                if found is None or found.nargs != 0:
                    action = found if end == len(arg) else None  # else a value is attached
                    head = arg[: end - 1] if end > 2 else ""  # the flags before it (-p of -pq)
                    break
        if action is None or action.nargs == 0 or i >= len(argv):
            out.append(arg)
        elif action is query and argv[i][:1] == "-" and argv[i] != "--":
            out.extend([head, f"--query={argv[i]}"] if head else [f"--query={argv[i]}"])
            i += 1
        else:
            out.extend([arg, argv[i]])
            i += 1
    return out


# ---------------------------------------------------------------------------------------------
# Building the pieces


def _format_option(args: argparse.Namespace) -> LogFormat | None:
    if not args.format:
        if args.datefmt:
            raise CliError("--datefmt needs --format (the template it belongs to)")
        return None
    from logview.formats.detect import format_from_option

    return format_from_option(args.format, args.datefmt)


def _stdin_is_piped() -> bool:
    try:
        return not os.isatty(0)
    except OSError:  # fd 0 closed
        return False


def build_sources(args: argparse.Namespace, *,
                  tui: bool) -> tuple[list[ByteSource], ListenSession | None]:
    """The sources to read and, for --listen, the running listener (``stop()`` it at exit)."""
    sources: list[ByteSource] = []
    listener = None
    if args.demo:
        from logview.demo import demo_source

        live = tui or args.follow
        sources.append(demo_source(live=live))
    if args.save and not args.listen:
        raise CliError("--save needs --listen (it keeps the records the listener receives)")
    from logview.sources import spool

    spool.configure(max_bytes=args.spool_max)  # the stdin and FIFO sources made below
    paths = list(args.sources)
    if not paths and not sources and not args.listen:
        if _stdin_is_piped():
            paths = ["-"]
        else:
            raise CliError("nothing to read: give a file, pipe something in, or try --demo")
    if paths:
        follow = (not args.no_follow) if tui else args.follow
        if "-" in paths and tui:
            from logview.sources.stdin import detach_stdin_for_tui

            pipe_fd = detach_stdin_for_tui()
            paths = [p for p in paths if p != "-"]
            from logview.sources.stdin import StdinSource

            sources.append(StdinSource(fd=pipe_fd))
        if paths:
            from logview.sources.open import open_sources

            sources.extend(open_sources(paths, follow=follow, rotated=args.rotated,
                                        journal=_journal_options(args, paths, tui=tui),
                                        clickhouse=_clickhouse_options(args, paths, tui=tui)))
    if args.listen:  # last: nothing else can fail once the ports are bound
        from logview.listen.session import start_listening

        listener = start_listening(args.listen, save=args.save, max_frame=args.max_frame)
        sys.stderr.write(listener.banner(saving=bool(args.save)))  # one write: seen whole
        sys.stderr.flush()
        sources.append(listener.source)
    return sources, listener


def _journal_options(args: argparse.Namespace, paths: list[str], *, tui: bool):
    """How ``journal:`` inputs are read: journalctl filters what it can of the query itself
    (the viewer runs it again when its query changes, ``JournalSource.narrow``)."""
    from logview.sources.journal import JournalOptions, is_journal

    if not any(is_journal(path) for path in paths):
        return None
    from logview.sources.journal_pushdown import journal_pushdown

    query = _viewer_query(args) if tui and not args.explain else build_query(
        _pushdown_text(args))
    pushdown = None if query is None else journal_pushdown(query)
    return JournalOptions(pushdown=pushdown, fatal_errors=not tui)


def _clickhouse_options(args: argparse.Namespace, paths: list[str], *, tui: bool):
    """How ``clickhouse://`` inputs are read: ClickHouse filters what it can of the query
    (--print reads every row it admits; the viewer the newest ones, and asks again when its
    query changes, ``ClickHouseSource.narrow``). --explain fetches no rows."""
    from logview.sources.clickhouse_url import is_clickhouse

    if not any(is_clickhouse(path) for path in paths):
        return None
    from logview.sources.clickhouse import ClickHouseOptions

    viewer = tui and not args.explain
    query = _viewer_query(args) if viewer else build_query(_pushdown_text(args))
    return ClickHouseOptions(query=query, viewer=viewer, fatal_errors=not tui,
                             fetch=not args.explain)


def _viewer_query(args: argparse.Namespace):
    """The viewer's first query as the stores take it (None: none, or one the query bar will
    show as wrong): what they filter from the start, so the viewer need not ask again."""
    from logview.query import QueryError, parse_query

    try:
        return parse_query(_pushdown_text(args))
    except QueryError:
        return None


def build_redactor(args: argparse.Namespace):
    """The ``Redactor`` of ``--redact`` and config.toml's ``[redact]``, or None."""
    from logview.redact import BUILTIN_NAMES, RedactError
    from logview.redact_config import ConfigUnreadable, load_config
    from logview.redact_config import build_redactor as build

    value = args.redact
    if value and (not re.fullmatch(r"[A-Za-z0-9_,-]+", value) or (  # --redact app.log: a source
            os.path.exists(value) and not set(value.split(",")) <= {"all", *BUILTIN_NAMES})):
        args.sources.insert(0, value)
        args.redact = ""
    try:
        try:
            config = load_config()
        except ConfigUnreadable as exc:
            if args.redact is not None:
                raise
            if not exc.denied:  # denied: another user's home (sudo -u), not this user's file
                print(f"logview: warning: {printable(str(exc))} (its [redact] settings are "
                      "not applied)", file=sys.stderr)
            config = None
        return build(args.redact, disabled=args.no_redact,
                     search_original=args.redact_search_original, config=config)
    except RedactError as exc:
        raise CliError(f"--redact: {exc}") from exc


def _pushdown_text(args: argparse.Namespace) -> str:
    """The query a journal or ClickHouse may filter by itself: none when --redact makes the
    query read redacted text (they would read the original: ``-bob`` would drop records whose
    redacted text has no 'bob', and '[email]' would find nothing)."""
    return "" if getattr(args, "redacted_query", False) else args.query


def build_query(text: str):
    from logview.query import QueryError, parse_query

    try:
        return parse_query(text)
    except QueryError as exc:
        raise CliError(f"bad query: {exc}\n{exc.caret()}") from exc


# ---------------------------------------------------------------------------------------------


class Terminated(Exception):
    """SIGTERM or SIGHUP: stop as asked (what was read is printed), a normal end."""


def _install_signal_handlers() -> None:
    def stop(signum, frame):
        raise Terminated

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)


def _report_damaged(sources: list[ByteSource]) -> None:
    """Say on stderr which inputs ended early (a cut-short .gz): what they held was printed."""
    for source in sources:
        error = getattr(source, "error", None)
        if error:
            print(f"logview: warning: {error}", file=sys.stderr)


def _config_rules(load_config) -> list:
    """The user's own redaction rules (``--redact-rules``), said as an error when broken."""
    from logview.redact import RedactError

    try:
        return load_config().custom
    except RedactError as exc:
        raise CliError(f"--redact: {exc}") from exc


def _warn_user_formats() -> None:
    """Say on stderr, once, what in the user's formats file could not be used."""
    from logview.formats.detect import user_format_warnings

    for warning in user_format_warnings():
        print(f"logview: warning: {warning}", file=sys.stderr)


def _save_session(session) -> None:
    """Write the viewer's session at exit; a failure is one line on stderr, never an error."""
    problem = session.save() if session is not None else None
    if problem:
        with suppress(OSError):  # (SIGHUP: the terminal may be gone)
            print(f"logview: warning: {printable(problem)}", file=sys.stderr)


def run() -> None:
    """The ``logview`` command: ``main``, then, when it ran without the viewer, out of the
    process at once (``os._exit``) once the exit functions have run and stdout and stderr
    are flushed. Everything it opened is closed by then (its inputs, range workers); what is
    left is the interpreter's teardown of every module and object (60-100 ms of a
    ``--print`` that may take 0.5 s in all)."""
    status = main()
    if _headless:
        atexit._run_exitfuncs()  # (what modules asked to do at exit: journalctl children)
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):  # (EPIPE: quiet, as main is)
                stream.flush()
        os._exit(status)
    raise SystemExit(status)


#: Whether the last ``main`` ran without the viewer (``run`` may then leave at once).
_headless = False


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``logview`` command; returns the exit status."""
    global _headless
    parser = build_parser()
    args = parser.parse_args(attach_query_values(parser, sys.argv[1:] if argv is None else argv))
    # Like git and lnav: when stdout is a pipe or a file there is no screen, so print.
    tui = not args.print_ and sys.stdout.isatty()
    _headless = not tui and not args.listen  # (a listener's session files: the usual exit)
    listener = None
    store = None
    stop_signals = None
    if args.listen and not tui:
        from logview.headless import StopSignals

        stop_signals = StopSignals()
    try:
        if args.redact_rules:
            from logview.redact import describe_rules
            from logview.redact_config import load_config

            sys.stdout.write(describe_rules(_config_rules(load_config)))
            return EXIT_OK
        redactor = build_redactor(args)  # first: --redact app.log gives back its source
        args.redacted_query = redactor is not None and not redactor.search_original
        query = build_query(args.query)
        _warn_user_formats()
        fmt = _format_option(args)
        sources, listener = build_sources(args, tui=tui)
        if args.explain:
            from logview.explain import explain

            sys.stdout.write(explain(sources, fmt, redactor))
            return EXIT_OK
        from logview.store import build_store

        store = build_store(sources, fmt, redactor)
        if tui:
            from logview.session import Session
            from logview.tui.app import LogviewApp

            session = None if args.no_session else Session()
            LogviewApp(store, query=args.query, session=session).run()
            _save_session(session)
            return EXIT_OK
        from logview import headless

        out = sys.stdout.buffer
        color = headless.use_color(args.color, out)
        original = not headless.is_terminal(out)  # a pipe or a file gets the bytes as they are
        if stop_signals is None:
            _install_signal_handlers()
        try:
            if listener is not None and stop_signals is not None:
                headless.run_listen_print(store, query, out, listener.stop, stop_signals.event,
                                          output=args.output, color=color, original=original)
                return EXIT_INTERRUPTED if stop_signals.signum == signal.SIGINT else EXIT_OK
            status = headless.run_print(store, query, out, output=args.output, color=color,
                                        follow=args.follow, original=original,
                                        format_option=args.format)
            _report_damaged(sources)
            return status
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly, like other Unix tools.
            with suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OK
    except KeyboardInterrupt:  # Ctrl-C: like other Unix tools, 128 + SIGINT
        return EXIT_INTERRUPTED
    except Terminated:
        return EXIT_OK
    except (CliError, FormatError, SourceError) as exc:
        print(f"logview: {printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if stop_signals is not None:
            stop_signals.restore()
        if listener is not None:
            listener.stop()
        if store is not None:
            with suppress(OSError):
                store.close()


if __name__ == "__main__":  # pragma: no cover
    run()
