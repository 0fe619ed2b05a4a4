"""The built Chinese site speaks Chinese outside the page text too: gallery figures and their
alt texts, the gallery index cards and thumbnails, the footer and the theme's own strings; and
no page of either language loads a script from another host (MathJax comes with the site)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
import pydata_sphinx_theme
import sphinx

from .conftest import LANGUAGES, ROOT

CJK = re.compile(r"[\u4e00-\u9fff]")
GALLERY = ROOT / "docs" / "auto_gallery"


def _gallery_pages(html_root: Path, language: str) -> list[Path]:
    return sorted(p for p in (html_root / language / "docs" / "auto_gallery").rglob("plot_*.html"))


def _images(html: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) for tag in re.findall(r"<img\b[^>]*>", html)]


def _figures(page: Path) -> list[tuple[str, str]]:
    """(src, alt) of the gallery figures of a page."""
    return [(img["src"], img.get("alt", "")) for img in _images(page.read_text(encoding="utf-8"))
            if re.search(r"\bsphx-glr-(?:single|multi)-img\b", img.get("class", ""))]


def test_every_gallery_page_has_figures(html_root: Path):
    for language in LANGUAGES:
        pages = _gallery_pages(html_root, language)
        assert pages, f"no gallery pages in {language}"
        assert all(_figures(page) for page in pages), [p.name for p in pages if not _figures(p)]


def test_chinese_figures_are_other_files_than_english(html_root: Path):
    """The zh pages show the figures drawn in Chinese: other bytes than the English ones."""
    for zh_page in _gallery_pages(html_root, "zh_CN"):
        en_page = html_root / "en" / zh_page.relative_to(html_root / "zh_CN")
        pairs = zip(_figures(en_page), _figures(zh_page), strict=True)
        for (en_src, _), (zh_src, _) in pairs:
            en_png = (en_page.parent / en_src).resolve().read_bytes()
            zh_png = (zh_page.parent / zh_src).resolve().read_bytes()
            assert en_png != zh_png, f"{zh_page.name}: {zh_src} is the English figure"


def test_every_line_of_every_figure_is_translated():
    """figure_i18n's records: no drawn line went without a translation (check-po lists them)."""
    records = sorted(GALLERY.glob("**/images/zh_CN/*.json"))
    assert records, "no figure records: build the site with `make site`"
    missing = {r.stem: [line for line, zh in json.loads(r.read_text(encoding="utf-8"))["lines"].items()
                        if zh is None] for r in records}
    assert not {k: v for k, v in missing.items() if v}, missing


@pytest.mark.parametrize("language", LANGUAGES)
def test_figure_alt_texts_speak_the_page_language(html_root: Path, language: str):
    for page in _gallery_pages(html_root, language):
        for src, alt in _figures(page):
            assert alt.strip(), f"{page.name}: {src} has no alt text"
            assert not re.fullmatch(r"plot[ \w]*", alt), f"{page.name}: file-name alt text {alt!r}"
            assert bool(CJK.search(alt)) is (language == "zh_CN"), f"{page.name}: alt {alt!r} in {language}"


def _cards(html: str) -> list[tuple[str, str, str]]:
    """(tooltip, thumbnail src, title) of each card of a gallery index page."""
    return re.findall(r'<div class="sphx-glr-thumbcontainer"[^>]*tooltip="([^"]*)">.*?<img [^>]*src="([^"]+)"'
                      r'.*?<div class="sphx-glr-thumbnail-title">(.*?)</div>', html, re.S)


@pytest.mark.parametrize("language", LANGUAGES)
def test_gallery_cards_are_plain_text_in_the_page_language(html_root: Path, language: str):
    indexes = sorted((html_root / language / "docs" / "auto_gallery").rglob("index.html"))
    cards = [card for index in indexes for card in _cards(index.read_text(encoding="utf-8"))]
    assert len(cards) >= len(list(GALLERY.glob("*/plot_*.rst"))), "gallery cards missing"
    for tooltip, thumb, title in cards:
        assert tooltip and title
        assert "``" not in tooltip and not re.search(r":\w+:`", tooltip), f"markup in tooltip {tooltip!r}"
        if language == "zh_CN":
            assert CJK.search(tooltip) and CJK.search(title), f"English card: {title!r}: {tooltip[:60]!r}"
            assert "/zh_CN/" not in thumb, thumb  # Sphinx copies it to _images under its own name
        else:
            assert not CJK.search(tooltip + title), f"Chinese on the English index: {title!r}"


def test_chinese_thumbnails_are_the_chinese_figures(html_root: Path):
    for en_index in sorted((html_root / "en" / "docs" / "auto_gallery").rglob("index.html")):
        zh_index = html_root / "zh_CN" / en_index.relative_to(html_root / "en")
        en_thumbs = [(en_index.parent / src).resolve().read_bytes() for _, src, _ in _cards(en_index.read_text("utf-8"))]
        zh_thumbs = [(zh_index.parent / src).resolve().read_bytes() for _, src, _ in _cards(zh_index.read_text("utf-8"))]
        assert len(en_thumbs) == len(zh_thumbs)
        assert all(a != b for a, b in zip(en_thumbs, zh_thumbs)), f"{zh_index}: an English thumbnail"


EXTERNAL = re.compile(r'<(?:script|link)\b[^>]*?\b(?:src|href)="(?:https?:)?//[^"]+"[^>]*>', re.I)


def test_no_page_loads_from_another_host(html_root: Path):
    """Scripts and stylesheets (MathJax included) come with the site: it works offline."""
    offenders = {}
    for page in sorted(html_root.rglob("*.html")):
        tags = [t for t in EXTERNAL.findall(page.read_text(encoding="utf-8"))
                if t.lower().startswith("<script") or "stylesheet" in t.lower()]
        if tags:
            offenders[str(page.relative_to(html_root))] = tags[:2]
    assert not offenders, offenders
    for language in LANGUAGES:
        assert (html_root / language / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()


class _Chrome(HTMLParser):
    """Text and UI attributes of a page outside its article, scripts and styles."""

    UI_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "data-tooltip")

    def __init__(self):
        super().__init__()
        self.skip: list[str] = []
        self.values: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "article", "svg"):
            self.skip.append(tag)
        if not self.skip:
            self.values += [v.strip() for k, v in attrs if k in self.UI_ATTRIBUTES and v and v.strip()]

    def handle_endtag(self, tag):
        if self.skip and self.skip[-1] == tag:
            self.skip.pop()

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.values.append(" ".join(data.split()))


def _ui_messages() -> list[re.Pattern]:
    """Every English string of the theme and of Sphinx's HTML templates, as a full-text pattern."""
    pots = [Path(pydata_sphinx_theme.__file__).parent / "locale" / "sphinx.pot",
            Path(sphinx.__file__).parent / "locale" / "sphinx.pot"]
    patterns = []
    for pot in pots:
        for entry in polib.pofile(str(pot)):
            text = " ".join(entry.msgid.split())
            if len(text) < 3 or not re.search(r"[a-z]{2}", text) or "<" in text:
                continue
            parts = re.split(r"%\(\w+\)s|%s|\{\w*\}", text)
            patterns.append(re.compile(r".*?".join(re.escape(p) for p in parts)))
    return patterns


def test_theme_strings_and_footer_are_chinese(html_root: Path):
    messages = _ui_messages()
    pages = sorted((html_root / "zh_CN").rglob("*.html"))
    english = {}
    for page in pages:
        chrome = _Chrome()
        chrome.feed(page.read_text(encoding="utf-8"))
        left = sorted({v for v in chrome.values if any(p.fullmatch(v) for p in messages)})
        if left:
            english[str(page.relative_to(html_root))] = left
    assert not english, f"theme strings in English on Chinese pages: {english}"
    home = (html_root / "zh_CN" / "docs" / "index.html").read_text(encoding="utf-8")
    footer = re.search(r'<p class="copyright">(.*?)</p>', home, re.S)
    assert footer and CJK.search(footer[1]) and "Copyright" not in footer[1], footer and footer[1]
