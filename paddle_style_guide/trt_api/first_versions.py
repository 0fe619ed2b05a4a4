"""The TensorRT 10.x release in which each name our code relies on first appeared.

The checker introspects one TensorRT 10 (the newest, 10.16), so on its own it cannot tell that
``tensorrt.plugin.aot_impl`` exists in 10.16 but not in 10.6.  This module records, for every TensorRT name
the repository uses, the first 10.x release that has it, read from the Python binding sources of each
release tag of NVIDIA/TensorRT (``python/src``: the pybind11 definitions, where a name appears as a string
literal such as ``.def("add_plugin_v3", ...)``; ``python/packaging/bindings_wheel/tensorrt``: the Python
part, ``tensorrt.plugin`` included, where it appears as an identifier).  The record is
``first_versions.toml`` beside this file, with the commit and tags it was read from.

A source that claims an older minor (``# trt-api: 10.6, 11``) is then reported for each name that arrived
later, unless a ``hasattr`` guard or a ``try``/``except AttributeError`` protects the use.  A plain
``# trt-api: 10`` (or no claim) means every 10.x release, so it is 10.0.

Regenerate the record after using new TensorRT names (it needs a clone of NVIDIA/TensorRT with its tags)::

    python -m paddle_style_guide.trt_api first-versions --source PATH/TO/TensorRT/.git --write
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

RECORD = Path(__file__).with_name("first_versions.toml")
PYBIND_DIR = "python/src"
PYTHON_DIR = "python/packaging/bindings_wheel/tensorrt"
TAG = re.compile(r"^v(10)\.(\d+)(?:\.\d+)*$")


def parse_version(text: str) -> tuple[int, int]:
    """(major, minor) of "10", "10.9" or "10.9.0.34"."""
    parts = [int(p) for p in text.split(".")[:2]]
    return (parts[0], parts[1] if len(parts) > 1 else 0)


def load(path: Path = RECORD) -> dict[str, tuple[int, int]]:
    """``{dotted name: (major, minor)}`` from the record; empty if there is none."""
    if not path.is_file():
        return {}
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    return {name: parse_version(version) for name, version in doc.get("names", {}).items()}


# --- reading the release tags ------------------------------------------------------------------------


def _git(source: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(source), *args], capture_output=True, text=True, check=True).stdout


def release_tags(source: Path) -> list[tuple[tuple[int, int], str]]:
    """``[((10, minor), tag)]`` for the TensorRT 10 release tags, oldest first (the first tag of each minor)."""
    found: dict[tuple[int, int], str] = {}
    for tag in _git(source, "tag", "--list", "v10.*").split():
        m = TAG.match(tag)
        if m:
            key = (int(m.group(1)), int(m.group(2)))
            found[key] = min(found.get(key, tag), tag, key=lambda t: [int(x) for x in re.findall(r"\d+", t)])
    return sorted(found.items())


def names_in(source: Path, tag: str) -> tuple[set[str], set[str]]:
    """(string literals of the pybind11 sources, identifiers of the Python sources) at ``tag``."""
    quoted = set(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', _grep(source, tag, PYBIND_DIR, r'"[A-Za-z_][A-Za-z0-9_]*"')))
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", _grep(source, tag, PYTHON_DIR, r"[A-Za-z_][A-Za-z0-9_]*")))
    return quoted, words


def _grep(source: Path, tag: str, folder: str, pattern: str) -> str:
    proc = subprocess.run(["git", "--git-dir", str(source), "grep", "-h", "-o", "-E", pattern, tag, "--", folder],
                          capture_output=True, text=True)
    return proc.stdout if proc.returncode in (0, 1) else ""


def first_appearance(name: str, releases: list[tuple[tuple[int, int], tuple[set[str], set[str]]]]) -> tuple[int, int] | None:
    """The first release whose sources define the last part of ``name`` (None: in none of them)."""
    parts = name.split(".")
    leaf = parts[-1]
    python_only = len(parts) > 1 and parts[1] == "plugin"  # tensorrt.plugin is pure Python
    for version, (quoted, words) in releases:
        if leaf in words or (not python_only and leaf in quoted):
            return version
    return None


def compute(source: Path, names) -> tuple[dict[str, tuple[int, int]], list[str], list[str]]:
    """(first version per name, names found in no release, tags read)."""
    tags = release_tags(source)
    releases = [(version, names_in(source, tag)) for version, tag in tags]
    out, unknown = {}, []
    for name in sorted(set(names)):
        first = first_appearance(name, releases)
        if first is None:
            unknown.append(name)
        else:
            out[name] = first
    return out, unknown, [tag for _, tag in tags]


def render(found: dict[str, tuple[int, int]], source: Path, tags: list[str]) -> str:
    commit = _git(source, "rev-parse", "HEAD").strip()
    late = sum(1 for v in found.values() if v > (10, 0))
    lines = [
        "# First TensorRT 10.x release of each TensorRT name the repository uses (paddle_style_guide.trt_api).",
        "# Generated by `python -m paddle_style_guide.trt_api first-versions --source <TensorRT .git> --write`;",
        "# read from the binding sources of each release tag, see first_versions.py. Do not edit by hand.",
        "",
        "[provenance]",
        'repository = "https://github.com/NVIDIA/TensorRT"',
        f'commit = "{commit}"',
        f"tags = [{', '.join(repr(t).replace(chr(39), chr(34)) for t in tags)}]",
        f'searched = ["{PYBIND_DIR} (string literals)", "{PYTHON_DIR} (identifiers)"]',
        f"names = {len(found)}",
        f"after_10_0 = {late}",
        "",
        "[names]",
    ]
    for name, (major, minor) in sorted(found.items()):
        lines.append(f'"{name}" = "{major}.{minor}"')
    return "\n".join(lines) + "\n"


def used_names(paths=None) -> set[str]:
    """Every ``tensorrt`` name the repository's sources look up in TensorRT 10 outside a ``hasattr``/``try`` guard."""
    from .bindings import load_surfaces
    from .check import check_paths

    names: set[str] = set()
    check_paths(paths, surfaces=load_surfaces(["10", "11", "rtx"]), seen=lambda name: names.add(name))
    # Dunder methods (``ILogger.__init__`` of a subclass) come with every class; they are not API additions.
    return {n for n in names if n.startswith("tensorrt.") and not n.rsplit(".", 1)[-1].startswith("__")}
