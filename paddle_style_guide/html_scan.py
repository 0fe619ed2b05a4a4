"""Raw HTML inside Markdown: tags, their anchors (``id``, ``<a name>``) and
their links (``<a href>``, ``<img src>``), with comments ignored.

Regular expressions follow CommonMark's definition of a raw HTML tag.
Possessive quantifiers keep them linear on hostile input.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import NamedTuple

_ATTRS = r"""(?:\s++[A-Za-z_:][\w.:-]*+(?:\s*+=\s*+(?:[^"'=<>`\s]++|'[^']*+'|"[^"]*+"))?+)*+"""
OPEN_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9-]*+)(" + _ATTRS + r")\s*+/?>")
CLOSE_TAG = re.compile(r"</[A-Za-z][A-Za-z0-9-]*+\s*+>")
_ATTR = re.compile(
    r"""([A-Za-z_:][\w.:-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^"'=<>`\s]+)))?"""
)
# Elements whose content is not HTML: a tag-like string inside is text.
_RAW_TEXT = re.compile(
    r"<(script|style|textarea)\b[^>]*+>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)


_SPACE = re.compile(r"\s")


class Tag(NamedTuple):
    offset: int
    name: str  # lower case
    attrs: dict[str, str]


def comment_end(text: str, start: int) -> int:
    """End offset of the HTML comment opening at ``start`` ("<!--"), or -1."""
    if text.startswith("<!-->", start):
        return start + 5
    if text.startswith("<!--->", start):
        return start + 6
    end = text.find("-->", start + 4)
    return -1 if end < 0 else end + 3


def blank(text: str, start: int, end: int) -> str:
    """The slice ``text[start:end]`` with everything but newlines as spaces,
    so that offsets and line numbers survive masking."""
    chunk = text[start:end]
    return re.sub(r"[^\n]", " ", chunk) if "\n" in chunk else " " * len(chunk)


def parse_attrs(attr_text: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for m in _ATTR.finditer(attr_text):
        name = m.group(1).lower()
        value = m.group(2) if m.group(2) is not None else m.group(3)
        if value is None:
            value = m.group(4) or ""
        attrs.setdefault(name, html.unescape(value))
    return attrs


def mask_block(text: str) -> str:
    """Blank comments and raw-text elements of an HTML block."""
    if "<!--" not in text and not _RAW_TEXT.search(text):
        return text
    parts = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            break
        end = comment_end(text, start)
        if end < 0:
            end = len(text)  # an unclosed comment runs to the end of the block
        parts.append(text[pos:start])
        parts.append(blank(text, start, end))
        pos = end
    parts.append(text[pos:])
    text = "".join(parts)
    return _RAW_TEXT.sub(lambda m: blank(m.string, m.start(), m.end()), text)


def iter_tags(text: str) -> Iterator[Tag]:
    """Open tags of an HTML block, comments and raw-text elements skipped."""
    text = mask_block(text)
    pos = text.find("<")
    while pos >= 0:
        m = OPEN_TAG.match(text, pos)
        if m:
            yield Tag(pos, m.group(1).lower(), parse_attrs(m.group(2)))
            pos = text.find("<", m.end())
        else:
            pos = text.find("<", pos + 1)


def tag_anchors(tag: Tag) -> list[str]:
    """Fragment targets a tag defines: any ``id``, and ``name`` on ``<a>``
    (a value with white space in it is no valid id, and names nothing)."""
    out = []
    for value in (tag.attrs.get("id"), tag.attrs.get("name") if tag.name == "a" else None):
        if value and not _SPACE.search(value):
            out.append(value)
    return out


def tag_link(tag: Tag) -> tuple[str, str] | None:
    """``(kind, url)`` for ``<a href>`` and ``<img src>``, else None."""
    if tag.name == "a" and "href" in tag.attrs:
        return "html-link", tag.attrs["href"]
    if tag.name == "img" and "src" in tag.attrs:
        return "html-image", tag.attrs["src"]
    return None
