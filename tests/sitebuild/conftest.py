"""Fixtures for tests of the built site (``make site`` or ``make test`` builds it first)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TUTORIAL_BUILD_DIR", ROOT / "build")).resolve()
HTML = BUILD / "html"
LANGUAGES = ("en", "zh_CN")

sys.path.insert(0, str(ROOT / "docs" / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))


@pytest.fixture(scope="session")
def html_root() -> Path:
    missing = [lang for lang in LANGUAGES if not (HTML / lang / "docs" / "index.html").exists()]
    if missing:
        pytest.fail(f"the site is not built for {missing}: run `make site` first", pytrace=False)
    return HTML


def source_pagenames() -> list[str]:
    """Every page the sources define, as Sphinx page names (no suffix)."""
    pages = [p.relative_to(ROOT).with_suffix("").as_posix()
             for pattern in ("docs/**/*.md", "paddle_style_guide/guide/*.md")
             for p in ROOT.glob(pattern)
             if not any(part.startswith("_") for part in p.relative_to(ROOT).parts)]
    gallery = ROOT / "gallery"
    # sphinx-gallery builds only folders that have a GALLERY_HEADER.rst.
    for script in gallery.rglob("plot_*.py"):
        if not (script.parent / "GALLERY_HEADER.rst").exists():
            continue
        pages.append(("docs/auto_gallery" / script.relative_to(gallery).with_suffix("")).as_posix())
    for header in gallery.rglob("GALLERY_HEADER.rst"):
        pages.append(("docs/auto_gallery" / header.parent.relative_to(gallery) / "index").as_posix())
    return sorted(pages)


READER_MODULES = ("test_copy_this.py", "test_downloads.py")


def pytest_collection_modifyitems(config, items):
    """The tests that wait for the reader runs go last: the runs go on in the background while the
    other tests run (a stable sort keeps every other order)."""
    items.sort(key=lambda item: item.path.name in READER_MODULES)


def pytest_collection_finish(session):
    """When the session will run the rendered site's code (tests/sitebuild/reader.py), start it now in
    the background: it runs in subprocesses on the core that the other tests leave idle."""
    if session.config.option.collectonly or not any(i.path.name in READER_MODULES for i in session.items):
        return
    if all((HTML / lang / "docs" / "index.html").exists() for lang in LANGUAGES):
        from .reader import start_early

        try:
            start_early(HTML)
        except Exception:
            pass  # the tests that need the runs start them again and report what fails
