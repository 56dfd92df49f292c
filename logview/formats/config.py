"""The user's own formats, named in ``$XDG_CONFIG_HOME/logview/formats.toml``.

A ``[formats.NAME]`` table holds either a ``logging`` format string (``template``, with an
optional ``datefmt``, ``style`` and custom ``levels``) or a ``json`` key mapping for an
application's JSON lines. Detection tries these before the built-in formats, and
``--format NAME`` picks one. A broken file or entry never stops logview: it becomes a warning
(naming the file, the format and what is wrong) and the entry is left out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from logview.formats.base import FormatError, LogFormat
from logview.formats.jsonl import KEY_ROLES, JsonFormat
from logview.record import LEVEL_ALIASES

CONFIG_FILE = "formats.toml"

_TEMPLATE_KEYS = ("template", "datefmt", "style", "levels")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
_STYLES = ("%", "{", "$")


def default_config_dir() -> Path:
    """``$XDG_CONFIG_HOME/logview``, or ``~/.config/logview`` (a relative XDG_CONFIG_HOME is
    ignored, as the XDG base directory spec says)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "logview"


class ConfigFileError(Exception):
    """A config file that is there but cannot be used (the message names it); ``unreadable``:
    it could not be read at all, ``denied``: for want of permission."""

    def __init__(self, message: str, *, unreadable: bool = False, denied: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable
        self.denied = denied


def read_toml(path: Path) -> dict[str, Any] | None:
    """The TOML document of the file at ``path``; None when there is no such file.
    ``ConfigFileError`` when it cannot be read, is not UTF-8 or is not TOML. (``tomllib`` is
    imported only for a file that is there: most runs have none.)"""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read it: {exc.strerror or exc}", unreadable=True,
                              denied=isinstance(exc, PermissionError)) from None
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
                              ) from None
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid TOML: {exc}") from None


def user_formats(config_dir: Path | None = None) -> tuple[list[LogFormat], list[str]]:
    """The formats the config file names, and a warning for each thing that could not be used.

    No file is no formats and no warnings. Never raises: a file that cannot be read or is not
    TOML is one warning; each bad entry is one warning and is left out.
    """
    path = (config_dir if config_dir is not None else default_config_dir()) / CONFIG_FILE
    try:
        data = read_toml(path)
    except ConfigFileError as exc:
        return [], [str(exc)]
    if data is None:
        return [], []

    warnings = [f"{path}: unknown key {key!r} (formats are [formats.NAME] tables)"
                for key in data if key != "formats"]
    table = data.get("formats", {})
    if not isinstance(table, dict):
        return [], [*warnings, f"{path}: 'formats' must be a table of [formats.NAME] tables"]
    formats: list[LogFormat] = []
    for name, entry in table.items():
        try:
            formats.append(format_from_entry(name, entry, path))
        except FormatError as exc:
            warnings.append(str(exc))
    return formats, warnings


def format_from_entry(name: str, entry: Any, path: Path | str = CONFIG_FILE) -> LogFormat:
    """The format one ``[formats.NAME]`` table describes.

    Raises ``FormatError`` with a message naming the file, the format and what is wrong.
    """
    where = f"{path}: format {name!r}"
    if not _NAME_RE.fullmatch(name):
        raise FormatError(f"{where}: a name is letters, digits and _ . + - (for --format NAME)")
    if not isinstance(entry, dict):
        raise FormatError(f"{where}: expected a table with template = \"...\" or json = {{...}}")
    if ("template" in entry) == ("json" in entry):
        raise FormatError(f"{where}: give either template = \"...\" or json = {{...}}, "
                          f"{'not both' if 'json' in entry else 'found neither'}")
    if "json" in entry:
        return _json_format(name, entry, where)
    return _template_format(name, entry, where)


def _json_format(name: str, entry: dict[str, Any], where: str) -> JsonFormat:
    extra = [key for key in entry if key != "json"]
    if extra:
        raise FormatError(f"{where}: unknown key {extra[0]!r} beside json (only json = {{...}})")
    keys = entry["json"]
    if not isinstance(keys, dict) or not keys:
        raise FormatError(f"{where}: json must map roles to keys, e.g. "
                          f"json = {{ time = \"ts\", level = \"sev\", message = \"text\" }}")
    for role, key in keys.items():
        if role not in KEY_ROLES:
            raise FormatError(f"{where}: unknown json role {role!r} "
                              f"(roles: {', '.join(KEY_ROLES)})")
        if not isinstance(key, str) or not key:
            raise FormatError(f"{where}: json.{role} must be a key name (text), not {key!r}")
    return JsonFormat(keys=keys, name=name)


def _template_format(name: str, entry: dict[str, Any], where: str) -> LogFormat:
    extra = [key for key in entry if key not in _TEMPLATE_KEYS]
    if extra:
        raise FormatError(f"{where}: unknown key {extra[0]!r} "
                          f"(a template format has {', '.join(_TEMPLATE_KEYS)})")
    template, datefmt, style = entry["template"], entry.get("datefmt"), entry.get("style")
    if not isinstance(template, str) or not template.strip():
        raise FormatError(f"{where}: template must be a logging format string, "
                          f"e.g. \"%(asctime)s %(levelname)s %(name)s %(message)s\"")
    if datefmt is not None and (not isinstance(datefmt, str) or not datefmt):
        raise FormatError(f"{where}: datefmt must be a strftime pattern such as "
                          f"\"%Y-%m-%d %H:%M:%S\", not {datefmt!r}")
    if style is not None and style not in _STYLES:
        raise FormatError(f"{where}: style must be one of \"%\", \"{{\" or \"$\", not {style!r}")
    levels = _levels(entry.get("levels"), where)
    return _build_template(name, template, datefmt, style, levels, where)


def _levels(value: Any, where: str) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FormatError(f"{where}: levels must be a table of names and numbers, "
                          f"e.g. levels = {{ AUDIT = 25 }}")
    for level, number in value.items():
        if type(number) is not int or number <= 0:
            raise FormatError(f"{where}: level {level!r} needs a positive whole number "
                              f"(as logging.addLevelName takes), not {number!r}")
    return dict(value)


def _build_template(name: str, template: str, datefmt: str | None, style: str | None,
                    levels: dict[str, int] | None, where: str) -> LogFormat:
    from logview.formats.template import TemplateFormat

    try:
        fmt = TemplateFormat(template, datefmt=datefmt, style=style, name=name, levels=levels)
    except (ValueError, re.error) as exc:  # FormatError is a ValueError
        raise FormatError(f"{where}: {exc}") from exc
    if levels and any(level.upper() not in LEVEL_ALIASES for level in levels):
        # The query prefilter looks for known level names in the raw bytes: it would skip
        # the records of a level it cannot spell (AUDIT), so level queries parse every record.
        fmt.level_text = False
    return fmt


def format_factory(fmt: LogFormat) -> Callable[[str | None], LogFormat]:
    """Makes fresh instances of a user format (formats keep caches: one per store).

    The argument is ``--datefmt``: it replaces a template's datefmt and does not apply to a
    JSON mapping.
    """

    def make(datefmt: str | None) -> LogFormat:
        if isinstance(fmt, JsonFormat):
            if datefmt is not None:
                raise FormatError(f"--datefmt does not apply to --format {fmt.name} "
                                  f"(a JSON format: its times are read as they come)")
            return JsonFormat(keys=fmt.keys, name=fmt.name)
        levels = dict(getattr(fmt, "custom_levels", {})) or None
        return _build_template(fmt.name, fmt.template, datefmt or fmt.datefmt,  # type: ignore[attr-defined]
                               fmt.style, levels, f"format {fmt.name!r}")  # type: ignore[attr-defined]

    return make
