"""The built site: complete in both languages, warning-free, translated and searchable."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from sphinx_gallery.utils import get_md5sum

from .conftest import BUILD, LANGUAGES, ROOT, source_pagenames

CJK = re.compile(r"[\u4e00-\u9fff]")
SWITCH = re.compile(r'<a class="nav-link lang-switch" href="([^"]+)"')


def test_sources_are_found():
    pages = source_pagenames()
    assert "docs/index" in pages
    assert any(p.startswith("docs/auto_gallery/") for p in pages)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_source_page_is_built(html_root: Path, language: str):
    missing = [p for p in source_pagenames() if not (html_root / language / f"{p}.html").exists()]
    assert not missing, f"pages missing from the {language} build: {missing}"


@pytest.mark.parametrize("step", ["gettext-en", "html-en", "html-zh_CN"])
def test_builds_have_no_warnings(html_root: Path, step: str):
    log = BUILD / "logs" / f"{step}.warnings"
    assert log.exists(), f"{log} missing: the build step {step} did not run"
    assert log.read_text(encoding="utf-8").strip() == ""


@pytest.mark.parametrize("language", LANGUAGES)
def test_switcher_links_resolve_to_the_same_page(html_root: Path, language: str):
    other = "zh_CN" if language == "en" else "en"
    pages = sorted(p for p in (html_root / language).rglob("*.html")
                   if "_static" not in p.relative_to(html_root).parts)
    checked = 0
    for page in pages:
        if page.parent == html_root / language and page.name == "index.html":
            continue  # the language root only redirects to docs/index.html
        hrefs = set(SWITCH.findall(page.read_text(encoding="utf-8")))
        assert len(hrefs) == 1, f"{page}: expected one language-switch target, found {hrefs}"
        page_url = page.relative_to(html_root).as_posix()
        target = urlparse(urljoin(f"http://site/{page_url}", hrefs.pop())).path.lstrip("/")
        expected = f"{other}/{page.relative_to(html_root / language).as_posix()}"
        assert target == expected
        assert (html_root / target).exists(), f"{page}: switcher target {target} does not exist"
        checked += 1
    assert checked >= len(source_pagenames())


def test_chinese_pages_are_translated(html_root: Path):
    for pagename in source_pagenames():
        html = (html_root / "zh_CN" / f"{pagename}.html").read_text(encoding="utf-8")
        title = re.search(r"<h1>(.*?)<", html, re.S)
        assert title and CJK.search(title.group(1)), f"{pagename}: Chinese title missing"


def _search_terms(index_path: Path) -> dict:
    text = index_path.read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1 : text.rindex(")")])["terms"]


def test_chinese_search_index_holds_chinese_terms(html_root: Path):
    terms = _search_terms(html_root / "zh_CN" / "searchindex.js")
    for word in ("量化", "校准"):
        assert word in terms, f"{word} is not in the zh_CN search index (is jieba installed?)"


def test_each_gallery_script_ran_once_or_was_up_to_date(html_root: Path):
    """In the last full build every script either executed exactly once or was unchanged."""
    log = BUILD / "logs" / "gallery-executions.log"
    assert log.exists(), "no gallery execution log: build the site with `make site`"
    lines = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]
    runs = Counter(Path(path).name for _, path in lines)
    assert all(count == 1 for count in runs.values()), f"scripts executed more than once: {runs}"
    assert "html-zh_CN" not in {step for step, _ in lines}, "the Chinese build re-ran gallery scripts"
    gallery = ROOT / "gallery"
    for script in gallery.rglob("plot_*.py"):
        if script.name in runs or not (script.parent / "GALLERY_HEADER.rst").exists():
            continue
        md5 = ROOT / "docs/auto_gallery" / script.relative_to(gallery).with_suffix(".py.md5")
        current = get_md5sum(script, mode="t")  # the checksum sphinx-gallery compares
        assert md5.exists() and md5.read_text().strip() == current, (
            f"{script.name} neither ran in the last build nor has up-to-date output")


def _gallery_scripts() -> list[Path]:
    return [p for p in sorted((ROOT / "gallery").rglob("plot_*.py"))
            if (p.parent / "GALLERY_HEADER.rst").exists()]


@pytest.mark.parametrize("language", LANGUAGES)
def test_gallery_figures_and_downloads_exist(html_root: Path, language: str):
    """Every gallery page offers its script and notebook and shows at least one figure, and each figure exists."""
    without_figures = []
    for script in _gallery_scripts():
        rel = script.relative_to(ROOT / "gallery").with_suffix(".html")
        page_path = html_root / language / "docs/auto_gallery" / rel
        page = page_path.read_text(encoding="utf-8")
        images = re.findall(rf'<img [^>]*src="([^"]+sphx_glr_{script.stem}_\d+\.png)"', page)
        if not images:
            without_figures.append(rel.as_posix())
        for src in images:
            assert (page_path.parent / src).resolve().exists(), f"{rel}: missing figure {src}"
        downloads = re.findall(r'href="([^"]+\.(?:py|ipynb))"', page)
        assert {Path(d).suffix for d in downloads} == {".py", ".ipynb"}, f"{rel}: no script/notebook download"
        for href in downloads:
            assert (page_path.parent / href).resolve().exists(), f"{rel}: broken download {href}"
    assert not without_figures, f"gallery pages without a figure: {without_figures}"


def test_root_page_offers_both_languages(html_root: Path):
    html = (html_root / "index.html").read_text(encoding="utf-8")
    for language in LANGUAGES:
        assert f'href="{language}/docs/index.html"' in html
