"""Paddle-style links in the built site lead to the section they name, in both languages.

A link written ``[2. Title](./page.md#2)`` must reach an anchor ``2`` on the target page.
In the Chinese build the links come from translated messages, which Sphinx re-parses; a
paragraph with two links to one page once sent both to the second link's anchor.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import LANGUAGES

# A numbered link: its text starts with the section number ("2. Title" or "2.1 Title").
NUMBERED_LINK = re.compile(
    r'<a class="reference internal" href="([^"#]*)#([^"]+)">(?:<span class="std std-ref">)?'
    r"(\d+(?:\.\d+)*)\.?\s"
)
TARGET = re.compile(r'\s(?:id|name)="([^"]+)"')


@pytest.mark.parametrize("language", LANGUAGES)
def test_numbered_links_reach_the_section_they_name(html_root: Path, language: str):
    checked = 0
    targets: dict[Path, set[str]] = {}
    for page in sorted((html_root / language).rglob("*.html")):
        if "_static" in page.relative_to(html_root).parts:
            continue
        for href, fragment, number in NUMBERED_LINK.findall(page.read_text(encoding="utf-8")):
            target = (page.parent / href).resolve() if href else page
            if target not in targets:
                targets[target] = set(TARGET.findall(target.read_text(encoding="utf-8")))
            where = f"{page.relative_to(html_root)}: link '{number} ...' to {href}#{fragment}"
            assert fragment in targets[target], f"{where}: no such anchor"
            if re.fullmatch(r"\d+(?:\.\d+)*", fragment):
                assert fragment == number, f"{where}: the text names section {number}"
            checked += 1
    # the writing guide alone holds more than 30 of them
    assert checked >= 30
