"""The ``[redact]`` table of ``config.toml`` and the ``--redact`` options, made a ``Redactor``.

``$XDG_CONFIG_HOME/logview/config.toml`` (beside ``formats.toml``)::

    [redact]
    enabled = true                    # redact without --redact (--no-redact turns it off)
    use = ["email", "ipv4", "card"]   # the rules --redact alone (or enabled) applies; all
    search_original = false           # the query reads the original text
    rules = { customer_id = 'cust-[0-9]{6}' }   # your own rules: name = regex

Unlike a broken ``formats.toml`` entry (a warning), anything wrong in the file is an error
that stops logview: a rule left out would show what it was meant to mask. A file that cannot
be read at all (``ConfigUnreadable``: a home directory of another user) stops only a run that
asked for ``--redact``; others go on without it (with a warning unless permission was
denied: then it is another user's file, not the runner's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logview.formats.config import ConfigFileError, default_config_dir, read_toml
from logview.redact import RedactError, Redactor, Rule, choose_rules, custom_rule

CONFIG_FILE = "config.toml"
_KEYS = ("enabled", "use", "search_original", "rules")


class ConfigUnreadable(RedactError):
    """config.toml exists (or may) but cannot be read: permissions, an I/O error.
    ``denied``: no permission (typically another user's home: ``sudo -u nobody``)."""

    def __init__(self, message: str, *, denied: bool = False) -> None:
        super().__init__(message)
        self.denied = denied


@dataclass(slots=True)
class RedactConfig:
    """What ``[redact]`` says (defaults when there is no file or no table)."""

    enabled: bool = False
    use: list[str] = field(default_factory=lambda: ["all"])
    search_original: bool = False
    custom: list[Rule] = field(default_factory=list)


def config_path(config_dir: Path | None = None) -> Path:
    return (config_dir if config_dir is not None else default_config_dir()) / CONFIG_FILE


def load_config(config_dir: Path | None = None) -> RedactConfig:
    """The ``[redact]`` table of ``config.toml``; ``RedactError`` (naming the file, and the
    rule or key) when it cannot be used."""
    path = config_path(config_dir)
    try:
        data = read_toml(path)
    except ConfigFileError as exc:
        if exc.unreadable:
            raise ConfigUnreadable(str(exc), denied=exc.denied) from None
        raise RedactError(str(exc)) from None
    if data is None:
        return RedactConfig()
    table = data.get("redact")
    if table is None:
        return RedactConfig()
    return config_from_table(table, f"{path}: [redact]")


def config_from_table(table: Any, where: str = "[redact]") -> RedactConfig:
    """A ``RedactConfig`` from the parsed ``[redact]`` table."""
    if not isinstance(table, dict):
        raise RedactError(f"{where} must be a table")
    unknown = [key for key in table if key not in _KEYS]
    if unknown:
        raise RedactError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})")
    config = RedactConfig()
    for key in ("enabled", "search_original"):
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise RedactError(f"{where}: {key} must be true or false")
        setattr(config, key, value)
    rules = table.get("rules", {})
    if not isinstance(rules, dict):
        raise RedactError(f"{where}: rules must be a table of name = 'regex'")
    config.custom = [custom_rule(name, pattern, f"{where} ") for name, pattern in rules.items()]
    use = table.get("use", ["all"])
    if isinstance(use, str):
        use = use.split(",")
    if not isinstance(use, list) or not all(isinstance(name, str) for name in use):
        raise RedactError(f"{where}: use must be a list of rule names")
    try:
        choose_rules(use, config.custom)
    except RedactError as exc:
        raise RedactError(f"{where}: use: {exc}") from None
    config.use = use
    return config


def build_redactor(option: str | None, *, disabled: bool = False, search_original: bool = False,
                   config: RedactConfig | None = None) -> Redactor | None:
    """The redactor the options ask for, or None (no redaction).

    ``option``: the value of ``--redact`` (None: not given; "": given alone, the config's
    ``use`` or every rule; else names separated by commas). ``disabled``: ``--no-redact``.
    """
    config = config if config is not None else RedactConfig()
    if disabled or (option is None and not config.enabled):
        return None
    names = config.use if not option else option.split(",")
    return Redactor(choose_rules(names, config.custom),
                    search_original=search_original or config.search_original)
