"""Shared helpers for the style-guide tests: fixture paths, the seed page,
and small throwaway Sphinx projects."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEEDS = ROOT.parent / "shared" / "seeds"
SEED_PAGE = SEEDS / "000_535e5114a980cdca.txt"

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def seed_page() -> Path:
    """The sample page in PaddlePaddle's style that issue 3 was filed about."""
    if not SEED_PAGE.is_file():
        pytest.skip(f"../shared/seeds is absent ({SEED_PAGE} not found)")
    return SEED_PAGE


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding=encoding)
    return path


CONF = """\
extensions = ["paddle_style_guide.sphinx_ext"]
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist", "attrs_inline", "attrs_block"]
myst_heading_anchors = 3
nitpicky = True
root_doc = "index"
exclude_patterns = ["_build"]
gettext_compact = False
locale_dirs = ["locales/"]
"""


def sphinx_project(src: Path, pages: dict[str, str], conf: str = CONF) -> Path:
    """Write a Sphinx project: conf.py plus ``pages`` (name -> Markdown)."""
    src.mkdir(parents=True, exist_ok=True)
    (src / "conf.py").write_text(conf, encoding="utf-8")
    for name, text in pages.items():
        write(src / name, text)
    return src


def sphinx_build(src: Path, builder: str = "html", **overrides) -> tuple[Path, list[str]]:
    """Build in-process from scratch; returns the output folder and the
    warning lines. (SphinxTestApp resets docutils' global registries
    afterwards, so that builds do not leak into each other.)"""
    from sphinx.testing.util import SphinxTestApp

    build_dir = src / "_build"
    if build_dir.exists():
        shutil.rmtree(build_dir)
    warnings = io.StringIO()
    app = SphinxTestApp(builder, srcdir=src, freshenv=True, confoverrides=overrides,
                        status=io.StringIO(), warning=warnings)
    try:
        app.build(force_all=True)
    finally:
        app.cleanup()
    lines = [_ANSI.sub("", line) for line in warnings.getvalue().splitlines() if line.strip()]
    return build_dir / builder, lines


def run_cli(*args, cwd=ROOT) -> tuple[int, str, str]:
    """``python -m paddle_style_guide ARGS`` in ``cwd``: (status, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-m", "paddle_style_guide", *args],
        capture_output=True, text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return proc.returncode, proc.stdout, proc.stderr
