"""Every figure of the pages issue 17 touched has alt text that says what it shows (issue 17).

sphinx-gallery takes a figure's alt text from its titles (suptitle and axes titles); a figure without any
gets its file name ("plot int8 ptq"), which tells a screen reader nothing. Other pages can join the list
once their figures have titles.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import LANGUAGES

PAGES = ["int8/plot_int8_ptq", "fp16/plot_fp16_engines", "resnet50/plot_resnet50_walkthrough",
         "debugging/plot_debugging_precision"]
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
        assert len(text.split()) >= 4, f"{page}: figure {m.group('n')} alt text too short: {text!r}"
