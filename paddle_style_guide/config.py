"""Checker settings from a ``[tool.paddle_style_guide]`` table in
``pyproject.toml``, so that a project (and its pre-commit hook) needs no
command-line options::

    [tool.paddle_style_guide]
    rules = "sphinx"            # or "github" (the default)
    conf = "docs/conf.py"       # sphinx rules; default: the nearest conf.py
    paths = ["docs", "README.md"]
    exclude = ["docs/_build"]
    ignore = ["^https://internal\\\\."]
    disable = ["empty-target"]

Relative paths in the table are relative to the pyproject.toml's folder.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace

from .files import UsageError

CONFIG_TABLE = "tool.paddle_style_guide"
# Where --external keeps the links it found working (relative to the working directory).
DEFAULT_EXTERNAL_CACHE = os.path.join(".cache", "paddle_style_guide", "external-links.json")
_STRINGS = ("rules", "conf", "root", "slugs")
_LISTS = ("paths", "exclude", "ignore", "enable", "disable")
_PATHS = ("conf", "root", "paths")  # relative to the pyproject.toml


@dataclass(frozen=True, slots=True)
class Settings:
    rules: str = "github"
    conf: str | None = None
    root: str | None = None
    slugs: str = "both"
    myst_heading_anchors: int | None = None
    exact: bool = False
    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    source: str | None = None  # the pyproject.toml read, if any
    notes: tuple[str, ...] = field(default=())

    def merged(self, **cli) -> Settings:
        """These settings with the command line's on top: a scalar given on
        the command line wins, lists add up (enable/disable: the command line
        decides for the rules it names)."""
        changes = {}
        for key in ("rules", "conf", "root", "slugs", "myst_heading_anchors", "exact"):
            if cli.get(key) is not None:
                changes[key] = cli[key]
        if cli.get("paths"):
            changes["paths"] = tuple(cli["paths"])
        for key in ("exclude", "ignore"):
            changes[key] = getattr(self, key) + tuple(cli.get(key) or ())
        enable, disable = set(cli.get("enable") or ()), set(cli.get("disable") or ())
        changes["enable"] = tuple(sorted((set(self.enable) - disable) | enable))
        changes["disable"] = tuple(sorted((set(self.disable) - enable) | disable))
        return replace(self, **changes)


def find_pyproject(start: str | None = None) -> str | None:
    """The nearest pyproject.toml with a [tool.paddle_style_guide] table,
    from ``start`` (the working directory) up to the repository root."""
    folder = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate) and _has_table(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if os.path.exists(os.path.join(folder, ".git")) or parent == folder:
            return None
        folder = parent


def _has_table(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return "paddle_style_guide" in tomllib.load(fh).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return True  # let load_settings report it


def load_settings(path: str | None = None) -> Settings:
    """Settings from ``path`` (a pyproject.toml) or the nearest one; the
    defaults when there is none. Raises UsageError for a bad table."""
    if path is None:
        path = find_pyproject()
        if path is None:
            return Settings()
    elif not os.path.isfile(path):
        raise UsageError(f"--config: no such file: {path}")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("paddle_style_guide", {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [{CONFIG_TABLE}] must be a table")
    return _settings(path, table)


def _settings(path: str, table: dict) -> Settings:
    base = os.path.dirname(os.path.abspath(path))
    where = f"{path}: [{CONFIG_TABLE}]"
    values: dict = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if key in _STRINGS:
            if not isinstance(value, str):
                raise UsageError(f"{where}: {key} must be a string")
            values[name] = os.path.join(base, value) if key in _PATHS else value
        elif key in _LISTS:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"{where}: {key} must be a list of strings")
            if key in _PATHS:
                value = [os.path.join(base, v) for v in value]
            values[name] = tuple(value)
        elif key == "myst-heading-anchors":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise UsageError(f"{where}: {key} must be a whole number, 0 or more")
            values[name] = value
        elif key == "exact":
            if not isinstance(value, bool):
                raise UsageError(f"{where}: {key} must be true or false")
            values[name] = value
        else:
            known = ", ".join((*_STRINGS, *_LISTS, "myst-heading-anchors", "exact"))
            raise UsageError(f"{where}: unknown key {key!r}; the keys are: {known}")
    return Settings(source=path, **values)
