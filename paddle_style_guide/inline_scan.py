"""Links and anchors in one block's inline Markdown (a paragraph, a heading,
a table cell), found without building a full inline syntax tree.

CommonMark's precedence is followed where it matters for links: backslash
escapes, code spans, autolinks and raw HTML are recognised first and hide
what they contain; then brackets are matched, innermost first, and a link
disables the link openers around it. One deliberate difference: a code span
never crosses a line end here, so a stray backtick cannot hide the links on
the lines after it (the style guide keeps inline code on one line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from markdown_it.common.utils import normalizeReference, unescapeAll

from .html_scan import (
    CLOSE_TAG,
    OPEN_TAG,
    Tag,
    blank,
    comment_end,
    parse_attrs,
    tag_anchors,
    tag_link,
)

ESCAPABLE = frozenset(r"""!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~""")
_SPECIAL = re.compile(r"[\\`<]")
_BACKTICKS = re.compile(r"`+")
_BRACKET = re.compile(r"[\[\]]")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9.+-]{1,31}:[^<>\x00-\x20]*)>")
_EMAIL = re.compile(
    r"<[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*>"
)
# MyST attrs_inline: "{#id .class}" right after a span, link, image or code.
_ATTRS_INLINE = re.compile(r"(?<=[\]\)`*_])\{([^{}\n]*)\}")
_ATTR_ID = re.compile(r"(?:^|\s)#([^\s{}#.]+)")
_WS_ONE_EOL = re.compile(r"[ \t]*(?:\n[ \t]*)?")
_MAX_PAREN_DEPTH = 32  # as markdown-it
_FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")  # as mdit_py_plugins.footnote reads it
# the common case, "(url)" with nothing to unescape, read in one step
_SIMPLE_DESTINATION = re.compile(r"\(([^\s()<\\&]*)\)")


class InlineLink(NamedTuple):
    offset: int
    kind: str  # "link", "image", "autolink", "html-link", "html-image"
    dest: str


class InlineScan(NamedTuple):
    links: list[InlineLink]
    anchors: list[tuple[int, str]]  # (offset, id): raw HTML ids and {#id} attributes
    attr_ids: list[tuple[int, str]] = []  # (offset, id): the {#id} attributes alone
    footnote_refs: list[tuple[int, str]] = []  # (offset, label) of every [^label]


def scan_inline(
    text: str, references: Mapping[str, Mapping[str, Any]] | None = None
) -> InlineScan:
    """Find links and anchors in ``text``; offsets index into ``text``."""
    links: list[InlineLink] = []
    anchors: list[tuple[int, str]] = []
    masked = _mask(text, links, anchors)
    if "]" in masked:
        _find_bracket_links(text, masked, references or {}, links)
    attr_ids: list[tuple[int, str]] = []
    if "{" in text:
        for m in _ATTRS_INLINE.finditer(text):
            attr_ids.extend((m.start(), i) for i in _ATTR_ID.findall(m.group(1)))
        anchors.extend(attr_ids)
    footnote_refs = []
    if "[^" in masked:
        footnote_refs = [(m.start(), m.group(1)) for m in _FOOTNOTE_REF.finditer(masked)]
    links.sort()
    return InlineScan(links, anchors, attr_ids, footnote_refs)


def _mask(text: str, links: list[InlineLink], anchors: list) -> str:
    """Blank escapes, code spans, comments, autolinks and HTML tags (keeping
    offsets), recording the links and anchors the last two carry."""
    n = len(text)
    parts: list[str] = []
    copied = 0  # text[:copied] is already in parts
    i = 0
    # Searches that failed need not run again from a later offset (which keeps
    # this linear): no "-->" after no_comment_end; no closing run of k
    # backticks between no_closer[k][0] and the end of that line.
    no_comment_end = n + 1
    no_closer: dict[int, tuple[int, int]] = {}
    while True:
        m = _SPECIAL.search(text, i)
        if m is None:
            break
        i = m.start()
        ch = text[i]
        end = -1
        if ch == "\\":
            if i + 1 < n and text[i + 1] in ESCAPABLE:
                end = i + 2
        elif ch == "`":
            run_end = _BACKTICKS.match(text, i).end()
            size = run_end - i
            failed = no_closer.get(size)
            if failed is None or not failed[0] <= i < failed[1]:
                end = _code_span_end(text, i, run_end)
            if end < 0:
                if failed is None or not failed[0] <= i < failed[1]:
                    line_end = text.find("\n", run_end)
                    no_closer[size] = (i, n if line_end < 0 else line_end)
                i = run_end  # no closer on this line: literal backticks
                continue
        elif text.startswith("<!--", i):
            if i < no_comment_end or text.startswith(("<!-->", "<!--->"), i):
                end = comment_end(text, i)
                if end < 0:
                    no_comment_end = i
        else:
            end = _tag_or_autolink(text, i, links, anchors)
        if end < 0:
            i += 1
            continue
        parts.append(text[copied:i])
        parts.append(blank(text, i, end))
        copied = i = end
    if not parts:
        return text
    parts.append(text[copied:])
    return "".join(parts)


def _code_span_end(text: str, start: int, run_end: int) -> int:
    size = run_end - start
    line_end = text.find("\n", run_end)
    if line_end < 0:
        line_end = len(text)
    pos = run_end
    while True:
        m = _BACKTICKS.search(text, pos, line_end)
        if m is None:
            return -1
        if m.end() - m.start() == size:
            return m.end()
        pos = m.end()


def _tag_or_autolink(text: str, i: int, links: list, anchors: list) -> int:
    m = _AUTOLINK.match(text, i)
    if m:
        links.append(InlineLink(i, "autolink", m.group(1)))
        return m.end()
    m = _EMAIL.match(text, i)
    if m:
        return m.end()
    m = OPEN_TAG.match(text, i)
    if m:
        tag = Tag(i, m.group(1).lower(), parse_attrs(m.group(2)))
        anchors.extend((i, a) for a in tag_anchors(tag))
        link = tag_link(tag)
        if link:
            links.append(InlineLink(i, link[0], link[1]))
        return m.end()
    m = CLOSE_TAG.match(text, i)
    return m.end() if m else -1


def _find_bracket_links(
    text: str, masked: str, references: Mapping, links: list[InlineLink]
) -> None:
    openers: list[list] = []  # [offset, is_image, active]
    settled = 0  # openers[:settled] saw the last link: no link opener among them is active
    n = len(masked)
    i = 0
    while True:
        m = _BRACKET.search(masked, i)
        if m is None:
            return
        p = m.start()
        if masked[p] == "[":
            openers.append([p, p > 0 and masked[p - 1] == "!", True])
            i = p + 1
            continue
        i = p + 1
        if not openers:
            continue
        start, is_image, active = openers.pop()
        if settled > len(openers):
            settled = len(openers)
        if not active:
            continue
        dest, end = None, p + 1
        nxt = masked[p + 1] if p + 1 < n else ""
        if nxt == "(":
            parsed = _inline_destination(text, p + 1)
            if parsed is not None:
                dest, end = parsed
        if dest is None:
            label, end = text[start + 1 : p], p + 1
            if nxt == "[":
                close = masked.find("]", p + 2)
                if close >= 0 and "[" not in masked[p + 2 : close]:
                    if masked[p + 2 : close].strip():
                        label = text[p + 2 : close]
                    end = close + 1
            ref = None
            if label and not label.startswith("^") and len(label) < 1000:
                ref = references.get(normalizeReference(label))
            if ref is None:
                continue
            dest = ref.get("href", "")
        if is_image:
            links.append(InlineLink(start - 1, "image", dest))
        else:
            links.append(InlineLink(start, "link", dest))
            # no links inside links (openers below `settled` already know)
            for k in range(settled, len(openers)):
                if not openers[k][1]:
                    openers[k][2] = False
            settled = len(openers)
        i = end


def _inline_destination(text: str, paren: int) -> tuple[str, int] | None:
    """Parse ``(dest "title")`` starting at ``text[paren] == "("``.

    Returns the unescaped destination and the offset after ")", or None.
    """
    m = _SIMPLE_DESTINATION.match(text, paren)
    if m:
        return m.group(1), m.end()
    n = len(text)
    i = _WS_ONE_EOL.match(text, paren + 1).end()
    if i >= n:
        return None
    if text[i] == "<":
        j = i + 1
        while j < n:
            c = text[j]
            if c == "\\" and j + 1 < n and text[j + 1] in ESCAPABLE:
                j += 2
                continue
            if c == ">":
                break
            if c in "<\n":
                return None
            j += 1
        else:
            return None
        dest = text[i + 1 : j]
        i = j + 1
    else:
        depth = 0
        j = i
        while j < n:
            c = text[j]
            if c == "\\" and j + 1 < n and text[j + 1] in ESCAPABLE:
                j += 2
                continue
            if c <= " " or c == "\x7f":
                break
            if c == "(":
                depth += 1
                if depth > _MAX_PAREN_DEPTH:
                    return None
            elif c == ")":
                if depth == 0:
                    break
                depth -= 1
            j += 1
        if depth:
            return None
        dest = text[i:j]
        i = j
    k = _WS_ONE_EOL.match(text, i).end()
    if k < n and text[k] in "\"'(" and (k > i):
        close_char = ")" if text[k] == "(" else text[k]
        j = k + 1
        while j < n:
            c = text[j]
            if c == "\\" and j + 1 < n:
                j += 2
                continue
            if c == close_char:
                break
            if close_char == ")" and c == "(":
                return None
            j += 1
        else:
            return None
        k = _WS_ONE_EOL.match(text, j + 1).end()
    if k < n and text[k] == ")":
        return unescapeAll(dest), k + 1
    return None
