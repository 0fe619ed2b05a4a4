"""The migration table: old TensorRT APIs -> TensorRT 10 -> TensorRT 11 / ModelOpt.

The data lives in ``migration.toml`` next to this file.  :func:`verify` checks every
TensorRT name in it against the introspected binding wheels (present, absent,
deprecated-in-version) and that each row cites at least one official source;
:func:`render_markdown` turns it into a MyST table, which :func:`write_page` puts
between the BEGIN and END comment lines of ``docs/migration.md``.  The table is committed
(so its cells are ordinary messages of the page's translation catalog);
tests/trt_api/test_migration.py fails when the page is not up to date with this file.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
import tomllib
from importlib import metadata
from pathlib import Path

from .surface import Surface

DATA = Path(__file__).with_name("migration.toml")
CHECK_KEYS = {"present", "absent", "present_10", "absent_10", "present_11", "absent_11",
              "deprecated_10", "deprecated_11", "python"}  # fmt: skip
ROW_KEYS = {"id", "old", "trt10", "trt11", "deprecated", "removed", "note", "check", "source"}
OFFICIAL = ("https://docs.nvidia.com/", "https://github.com/NVIDIA/")
# `trt.X.Y` or `tensorrt.X.Y` written in a cell (calls and arguments stripped).
NAME_IN_CELL = re.compile(r"(?<![\w.])(?:trt|tensorrt)\.[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")

HEADERS = ("Old API", "TensorRT 10", "TensorRT 11 / ModelOpt", "Deprecated", "Removed", "Sources")


@dataclasses.dataclass
class Row:
    id: str
    old: str
    trt10: str
    trt11: str
    deprecated: str
    removed: str
    note: str
    check: dict
    sources: list[dict]


class MigrationDataError(ValueError):
    """``migration.toml`` is malformed; the message names the row and field."""


def load(path: Path = DATA) -> list[Row]:
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    rows = []
    seen = set()
    for i, raw in enumerate(doc.get("row", [])):
        where = f"{path.name} row {i + 1} ({raw.get('id', '?')})"
        unknown = set(raw) - ROW_KEYS
        if unknown:
            raise MigrationDataError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        for key in ("id", "old", "trt10", "trt11"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise MigrationDataError(f"{where}: `{key}` must be a non-empty string")
        if raw["id"] in seen:
            raise MigrationDataError(f"{where}: duplicate id")
        seen.add(raw["id"])
        check = raw.get("check", {})
        if set(check) - CHECK_KEYS:
            raise MigrationDataError(f"{where}: unknown check key(s) {', '.join(sorted(set(check) - CHECK_KEYS))}")
        rows.append(
            Row(
                id=raw["id"],
                old=raw["old"],
                trt10=raw["trt10"],
                trt11=raw["trt11"],
                deprecated=raw.get("deprecated", ""),
                removed=raw.get("removed", ""),
                note=raw.get("note", ""),
                check=check,
                sources=raw.get("source", []),
            )
        )
    return rows


def _major(version: str) -> int | None:
    """10 for "10.0", "≤ 10.0" or "11"; None for an empty cell."""
    m = re.search(r"(\d+)(?:\.\d+)?", version or "")
    return int(m.group(1)) if m else None


def names_in(cell: str) -> list[str]:
    """Dotted TensorRT names written in a table cell, as ``tensorrt.X.Y``."""
    return ["tensorrt." + n.split(".", 1)[1] for n in NAME_IN_CELL.findall(cell)]


def expectations(row: Row, majors: list[str]) -> list[tuple[str, str, bool, str]]:
    """(major, name, should exist, why) for every TensorRT name the row claims something about."""
    out = []
    c = row.check
    for major in majors:
        for name in c.get("present", []) + c.get(f"present_{major}", []):
            out.append((major, name, True, "check.present"))
        for name in c.get("absent", []) + c.get(f"absent_{major}", []):
            out.append((major, name, False, "check.absent"))
    for major, column in (("10", row.trt10), ("11", row.trt11)):
        if major in majors:
            for name in names_in(column):
                out.append((major, name, True, f"named in the TensorRT {major} column"))
    removed = _major(row.removed)
    if removed is not None:
        for major in majors:
            if int(major) >= removed:
                for name in names_in(row.old):
                    out.append((major, name, False, f"old API removed in {row.removed}"))
    return out


def verify(rows: list[Row], surfaces: dict[str, Surface], import_python: bool = False) -> list[str]:
    """Problems with the table, one line each; empty if every claim holds.

    ``import_python`` also imports every ``check.python`` name (ModelOpt; slow).
    """
    problems = []
    majors = [k for k, s in surfaces.items() if s.module == "tensorrt"]
    for row in rows:
        where = f"migration.toml [{row.id}]"
        if not row.sources:
            problems.append(f"{where}: no source")
        for src in row.sources:
            if not str(src.get("url", "")).startswith(OFFICIAL) or not src.get("supports"):
                problems.append(f"{where}: source needs an official url ({', '.join(OFFICIAL)}) and `supports`")
        removed, deprecated = _major(row.removed), _major(row.deprecated)
        if removed is not None and deprecated is not None and deprecated > removed:
            problems.append(f"{where}: deprecated {row.deprecated} after removed {row.removed}")
        if not row.check:
            problems.append(f"{where}: nothing to verify (add check.*)")
        for major, name, should, why in expectations(row, majors):
            surface = surfaces[major]
            if surface.has(name) != should:
                state = "absent from" if should else "present in"
                problems.append(f"{where}: {name} is {state} {surface.label} ({why})")
        # A row that says "removed in 11" must show it: some name present in 10, absent in 11.
        if removed == 11 and {"10", "11"} <= set(majors):
            gone = [n for (m, n, s, _) in expectations(row, ["11"]) if not s and surfaces["10"].has(n)]
            if not gone:
                problems.append(f"{where}: removed 11.0 but no name present in 10 and absent in 11 is listed")
        for major in majors:
            for name, version in row.check.get(f"deprecated_{major}", {}).items():
                found = surfaces[major].deprecation(name)
                if found is None or (version != "*" and found != version):
                    got = "no [DEPRECATED] note" if found is None else f"deprecated in {found or '(no version)'}"
                    problems.append(f"{where}: {name}: {surfaces[major].label} docstring says {got}, table says {version}")
        if import_python:
            for dotted in row.check.get("python", []):
                if not python_name_exists(dotted):
                    problems.append(f"{where}: {dotted} is not importable in this environment")
    return problems


def python_name_exists(dotted: str) -> bool:
    """Whether ``pkg.mod.attr`` can be imported (longest importable module prefix + attributes)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def _cell(text: str) -> str:
    return (text or "—").replace("|", "\\|").replace("\n", " ")


def render_markdown(rows: list[Row] | None = None, provenance: bool = True) -> str:
    """The table as MyST Markdown (English), with numbered source links per row.

    With ``provenance``, a last sentence names the pinned binding wheels that
    tests/trt_api/test_migration.py verifies the table against (no download needed here)
    and the ModelOpt release whose names it imports.
    """
    from .bindings import TARGETS

    rows = load() if rows is None else rows
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in rows:
        old = row.old + (f" ({row.note.rstrip('.')})" if row.note else "")
        links = " ".join(f"[{i}]({s['url']})" for i, s in enumerate(row.sources, 1))
        cells = [old, row.trt10, row.trt11, row.deprecated, row.removed, links]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    out = "\n".join(lines) + "\n"
    if provenance:
        wheels = " and ".join(f"{t.label} (`{t.requirement}`)" for t in TARGETS if t.module == "tensorrt")
        out += f"\nEvery TensorRT name in this table is checked against the Python binding wheels of {wheels}"
        try:
            out += f", every ModelOpt name by importing it from `nvidia-modelopt=={metadata.version('nvidia-modelopt')}`"
        except metadata.PackageNotFoundError:
            pass
        out += ".\n"
    return out


# --- the generated region of a docs page ----------------------------------------------------------

BEGIN = "% BEGIN migration table: generated from paddle_style_guide/trt_api/migration.toml, do not edit"
END = "% END migration table"
WRITE_COMMAND = "python -m paddle_style_guide.trt_api migration --write PAGE"


def page_region(text: str) -> tuple[int, int]:
    """Character offsets of the generated text between the BEGIN and END lines of a page."""
    begin = text.find(BEGIN + "\n")
    end = text.find("\n" + END + "\n")
    if begin < 0 or end < begin or text.count(BEGIN) != 1 or text.count(END) != 1:
        raise MigrationDataError(f"the page needs exactly one `{BEGIN}` line and one `{END}` line after it")
    return begin + len(BEGIN) + 1, end + 1


def page_table(text: str) -> str:
    """The generated table as the page has it (without the blank lines around it)."""
    start, stop = page_region(text)
    return text[start:stop].strip("\n") + "\n"


def with_table(text: str, table: str) -> str:
    """``text`` with its generated region replaced by ``table`` (blank lines around it)."""
    start, stop = page_region(text)
    return text[:start] + "\n" + table.strip("\n") + "\n\n" + text[stop:]


def write_page(path: Path, rows: list[Row] | None = None) -> bool:
    """Regenerate the table in ``path`` (atomic); True if the file changed."""
    text = Path(path).read_text(encoding="utf-8")
    new = with_table(text, render_markdown(rows))
    if new == text:
        return False
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)
    return True
