"""The layout a reader sees at 1400 px in headless Chromium: code fits the content column, and the English
top navigation fits one row.  Uses the served site and the browser of ``test_browser.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import LANGUAGES, source_pagenames
from .test_browser import browser, site_url  # noqa: F401  (module-scoped fixtures, reused)

pytestmark = pytest.mark.browser

OVERFLOWING_BLOCKS = """
const out = [];
for (const pre of document.querySelectorAll("article pre")) {
  if (pre.scrollWidth > pre.clientWidth + 1) {
    out.push(pre.textContent.split("\\n").reduce((a, b) => (b.length > a.length ? b : a), ""));
  }
}
const doc = document.scrollingElement;
return {blocks: out, page: doc.scrollWidth > doc.clientWidth + 1, width: window.innerWidth};
"""

NAVBAR = """
const box = sel => { const e = document.querySelector(sel); if (!e) return null;
                     const r = e.getBoundingClientRect(); return [r.top, r.bottom, r.left, r.right]; };
const links = [...document.querySelectorAll(".bd-header ul.bd-navbar-elements > li")]
  .filter(li => li.offsetParent !== null).map(li => [li.textContent.trim(), li.getBoundingClientRect().top]);
return {center: box(".bd-header .navbar-header-items__center"),
        end: box(".bd-header .navbar-header-items__end"),
        header: box(".bd-header"), links: links};
"""


def test_english_navigation_fits_one_row(browser, site_url):  # noqa: F811
    browser.set_window_size(1400, 1000)
    browser.get(f"{site_url}/en/docs/index.html")
    nav = browser.execute_script(NAVBAR)
    assert nav["center"] and nav["end"], nav
    center, end = nav["center"], nav["end"]
    # One row: the links and the search/switchers share a line, the links do not wrap.
    assert abs(center[0] - end[0]) < 4 and center[3] <= end[2], nav
    tops = {round(top) for _, top in nav["links"]}
    assert len(nav["links"]) >= 5 and len(tops) == 1, nav["links"]
    assert not any(name.lower().startswith("more") for name, _ in nav["links"]), nav["links"]
    assert nav["header"][1] - nav["header"][0] <= 80, nav  # the theme's one-row height (4rem + border)


@pytest.mark.parametrize("language", LANGUAGES)
def test_code_fits_the_content_column(browser, site_url, html_root: Path, language: str):  # noqa: F811
    browser.set_window_size(1400, 1000)
    problems = {}
    for page in source_pagenames():
        browser.get(f"{site_url}/{language}/{page}.html")
        found = browser.execute_script(OVERFLOWING_BLOCKS)
        assert found["width"] == 1400
        if found["blocks"] or found["page"]:
            problems[page] = found
    assert not problems, f"blocks that scroll sideways at 1400 px ({language}): {problems}"
