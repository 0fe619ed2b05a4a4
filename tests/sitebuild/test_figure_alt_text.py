"""Every gallery figure has alt text that says what it shows, in the page's language (issues 15, 17).

sphinx-gallery takes a figure's alt text from its titles (suptitle and axes titles); a figure without any
gets its file name ("plot int8 ptq"), which tells a screen reader nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.relative_to(ROOT / "gallery").with_suffix("").as_posix()
               for p in (ROOT / "gallery").glob("*/plot_*.py"))
IMG = re.compile(r'<img [^>]*src="[^"]*sphx_glr_(?P<stem>\w+?)_(?P<n>\d{3})\.png"[^>]*>')


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", PAGES)
def test_figures_have_descriptive_alt_text(html_root: Path, language: str, page: str):
    html = (html_root / language / "docs/auto_gallery" / f"{page}.html").read_text(encoding="utf-8")
    images = list(IMG.finditer(html))
    assert images, f"{page}: no gallery figure"
    for m in images:
        alt = re.search(r'alt="([^"]*)"', m.group(0))
        assert alt, f"{page}: figure {m.group('n')} has no alt attribute"
        text = alt.group(1)
        fallback = m.group("stem").replace("_", " ")
        assert text.strip() and text != fallback, f"{page}: figure {m.group('n')} has only its file name as alt text"
        # Four words in English; Chinese has no spaces between words, so count characters there.
        size = len(re.findall(r"[\u4e00-\u9fff]", text)) // 2 if language == "zh_CN" else len(text.split())
        assert size >= 4, f"{page}: figure {m.group('n')} alt text too short: {text!r}"
