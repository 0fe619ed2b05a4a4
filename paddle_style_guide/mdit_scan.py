"""The reference scanner: block structure from markdown-it-py, configured as
myst-parser configures it. Exact but about ten times slower than
:mod:`.markdown_scan`; the tests use it as the oracle for the fast scanner
(``python -m paddle_style_guide check --exact`` uses it too)."""

from __future__ import annotations

import functools
from typing import Any

from markdown_it.common.normalize_url import normalizeLinkText

from .markdown_scan import (
    MAX_DIRECTIVE_DEPTH,
    Heading,
    PageScan,
    add_directive,
    add_html_block,
    add_inline,
    heading_title,
)

# Only block structure matters for finding links, so rules that merely regroup
# text (tables, definition and field lists, block breaks) stay off.
_BLOCK_EXTENSIONS = frozenset({"attrs_block", "colon_fence", "dollarmath"})
# footnote_tail would move footnote definitions to the end of the page.
_RULES_OFF = ["table", "myst_block_break", "inline", "text_join", "wordcount", "footnote_tail"]


@functools.cache
def _block_parser():
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    md = create_md_parser(MdParserConfig(enable_extensions=set(_BLOCK_EXTENSIONS)), RendererHTML)
    md.disable(_RULES_OFF, ignoreInvalid=True)
    return md


class _Out:
    def __init__(self, page: PageScan):
        self.page = page
        self.inlines: list[tuple[str, int, int, bool]] = []
        self.references: dict[str, Any] = {}


def scan_markdown_mdit(text: str) -> PageScan:
    page = PageScan()
    out = _Out(page)
    env: dict[str, Any] = {}
    _scan("\n".join([text]), 0, env, out, 0, False)
    refs = {
        label: {**ref, "href": normalizeLinkText(ref.get("href", ""))}
        for label, ref in env.get("references", {}).items()
    }
    for content, line, level, in_dir in out.inlines:
        if level:
            page.headings.append(Heading(level, heading_title(content, refs), line, in_dir))
        add_inline(content, line, refs, page)
    return page


def _scan(text: str, line_offset: int, env: dict, out: _Out, depth: int, in_dir: bool) -> None:
    tokens = _block_parser().parse(text, env)
    level = 0
    for tok in tokens:
        ttype = tok.type
        if tok.attrs and "id" in tok.attrs and tok.map:
            out.page.anchors.setdefault(str(tok.attrs["id"]), line_offset + tok.map[0] + 1)
            out.page.attr_ids.setdefault(str(tok.attrs["id"]), line_offset + tok.map[0] + 1)
        if ttype == "footnote_reference_open" and tok.map:
            out.page.footnotes.setdefault(tok.meta["label"], line_offset + tok.map[0] + 1)
        if ttype == "heading_open":
            level = int(tok.tag[1])
        elif ttype == "heading_close":
            level = 0
        elif ttype == "inline":
            line = line_offset + (tok.map[0] if tok.map else 0) + 1
            out.inlines.append((tok.content, line, level, in_dir))
        elif ttype == "html_block":
            add_html_block(tok.content, line_offset + tok.map[0] + 1, out.page)
        elif ttype == "myst_target":
            out.page.labels.setdefault(tok.content.strip(), line_offset + tok.map[0] + 1)
        elif ttype in ("fence", "colon_fence") and tok.info.strip().startswith("{"):
            body = tok.content.split("\n")
            if body and body[-1] == "":
                body.pop()
            add_directive(
                tok.info, body, line_offset + tok.map[0] + 1, out, depth,
                lambda lines, first, o, d, i: _scan("\n".join(lines), first - 1, env, o, d, i),
            )
        if depth >= MAX_DIRECTIVE_DEPTH:
            break
