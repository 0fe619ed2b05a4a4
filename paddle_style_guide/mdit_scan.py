"""One Markdown page → its link targets and its links, with line numbers.

Block structure comes from markdown-it-py configured as myst-parser configures
it (so "inside a code block" means exactly what it means on the site); the
inline part of each block is read by :mod:`.inline_scan`, which is several
times faster than markdown-it's inline parser. Heading titles, the input to
slugs, do go through markdown-it's inline parser, as MyST's do.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML

from .html_scan import iter_tags, tag_anchors, tag_link
from .inline_scan import scan_inline

# MyST syntax extensions, as the site enables them. Only block structure
# matters for finding links (is this line code, math, HTML or text?), so the
# block parser leaves out rules that merely regroup text (tables, definition
# and field lists, ...): that keeps it fast and finds the same links.
MYST_EXTENSIONS = frozenset(
    {"amsmath", "attrs_block", "attrs_inline", "colon_fence", "deflist",
     "dollarmath", "fieldlist"}
)
_BLOCK_EXTENSIONS = frozenset({"attrs_block", "colon_fence", "dollarmath"})
_BLOCK_RULES_OFF = ["table", "myst_block_break", "inline", "text_join", "wordcount"]

# Directives whose body is not Markdown; every other directive's body is
# checked like the rest of the page (MyST parses it as Markdown).
CODE_DIRECTIVES = frozenset(
    """
    code code-block sourcecode code-cell literalinclude highlight parsed-literal
    math raw eval-rst csv-table graphviz digraph graph mermaid plantuml plot
    jupyter-execute ipython doctest testcode testoutput testsetup testcleanup
    productionlist toctree autosummary automodule autoclass autofunction
    automethod autoattribute autodata autoexception autosectionlabel
    py:function py:class py:method js:function c:function cpp:function
    include
    """.split()
)
# Directives whose argument is a file path, checked for existence.
PATH_ARG_DIRECTIVES = frozenset({"figure", "image", "include", "literalinclude"})

_DIRECTIVE_INFO = re.compile(r"\{([^}\s]+)\}\s*(.*)")
_OPTION_LINE = re.compile(r"\s*:[\w-]+:")
_MAX_DEPTH = 20


@dataclass(slots=True)
class Heading:
    level: int
    title: str  # the text MyST and GitHub slug: text and inline code
    line: int
    in_directive: bool = False


@dataclass(slots=True)
class Link:
    line: int
    kind: str  # link, image, autolink, html-link, html-image, directive
    target: str


@dataclass(slots=True)
class PageScan:
    headings: list[Heading] = field(default_factory=list)
    anchors: dict[str, int] = field(default_factory=dict)  # raw HTML and {#id}
    labels: dict[str, int] = field(default_factory=dict)  # MyST (label)=
    links: list[Link] = field(default_factory=list)


@functools.cache
def _parsers() -> tuple[MarkdownIt, MarkdownIt]:
    # imported here: myst_parser's config module pulls in docutils
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    block = create_md_parser(
        MdParserConfig(enable_extensions=set(_BLOCK_EXTENSIONS)), RendererHTML
    )
    block.disable(_BLOCK_RULES_OFF, ignoreInvalid=True)
    full = create_md_parser(
        MdParserConfig(enable_extensions=set(MYST_EXTENSIONS)), RendererHTML
    )
    full.disable(["wordcount"], ignoreInvalid=True)
    return block, full


def quiet_markdown_it() -> None:
    """Turn off markdown-it-py's per-rule debug logging (a measurable share
    of block parsing time). For the CLI and its worker processes only."""
    import logging

    for name in list(logging.root.manager.loggerDict):
        if name.startswith("markdown_it"):
            logging.getLogger(name).disabled = True


def scan_markdown(text: str) -> PageScan:
    """Scan one page's text (already decoded)."""
    page = PageScan()
    env: dict[str, Any] = {}
    _scan(text, 0, env, page, 0, False)
    return page


def _scan(
    text: str, line_offset: int, env: dict, page: PageScan, depth: int, in_dir: bool
) -> None:
    block, _ = _parsers()
    tokens = block.parse(text, env)
    references = env.get("references", {})
    heading_level = 0
    for tok in tokens:
        ttype = tok.type
        if tok.attrs and "id" in tok.attrs and ttype.endswith("_open") and tok.map:
            page.anchors.setdefault(str(tok.attrs["id"]), line_offset + tok.map[0] + 1)
        if ttype == "heading_open":
            heading_level = int(tok.tag[1])
        elif ttype == "heading_close":
            heading_level = 0
        elif ttype == "inline":
            line = line_offset + (tok.map[0] if tok.map else 0) + 1
            if heading_level:
                page.headings.append(
                    Heading(heading_level, _heading_title(tok.content, env), line, in_dir)
                )
            _add_inline(tok.content, line, references, page)
        elif ttype == "html_block":
            _add_html_block(tok.content, line_offset + tok.map[0] + 1, page)
        elif ttype == "myst_target":
            page.labels.setdefault(tok.content.strip(), line_offset + tok.map[0] + 1)
        elif ttype in ("fence", "colon_fence") and depth < _MAX_DEPTH:
            _directive(tok, line_offset, env, page, depth)


def _heading_title(content: str, env: dict) -> str:
    _, full = _parsers()
    tokens = full.parseInline(content, dict(env))
    children = (tokens[0].children or []) if tokens else []
    return "".join(c.content for c in children if c.type in ("text", "code_inline"))


def _lines_before(text: str, offset: int) -> int:
    return text.count("\n", 0, offset)


def _add_inline(content: str, line: int, references: dict, page: PageScan) -> None:
    if not ("[" in content or "<" in content or "{" in content):
        return
    found = scan_inline(content, references)
    multi = "\n" in content
    for off, anchor in found.anchors:
        page.anchors.setdefault(anchor, line + (_lines_before(content, off) if multi else 0))
    for off, kind, dest in found.links:
        page.links.append(
            Link(line + (_lines_before(content, off) if multi else 0), kind, dest)
        )


def _add_html_block(content: str, line: int, page: PageScan) -> None:
    for tag in iter_tags(content):
        tag_line = line + _lines_before(content, tag.offset)
        for anchor in tag_anchors(tag):
            page.anchors.setdefault(anchor, tag_line)
        link = tag_link(tag)
        if link:
            page.links.append(Link(tag_line, link[0], link[1]))


def _directive(tok, line_offset: int, env: dict, page: PageScan, depth: int) -> None:
    m = _DIRECTIVE_INFO.match(tok.info.strip())
    if m is None:
        return  # a plain code block
    name, argument = m.group(1).lower(), m.group(2).strip()
    fence_line = line_offset + tok.map[0] + 1
    if name in PATH_ARG_DIRECTIVES and argument:
        page.links.append(Link(fence_line, "directive", argument))
    if name in CODE_DIRECTIVES:
        return
    lines = tok.content.split("\n")
    skip = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        skip = 0 if end is None else end + 1
    else:
        while skip < len(lines) and _OPTION_LINE.match(lines[skip]):
            skip += 1
    body = "\n".join(lines[skip:])
    _scan(body, fence_line + skip, env, page, depth + 1, True)
