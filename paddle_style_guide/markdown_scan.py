"""One Markdown page → its anchors and its links, with line numbers.

The block structure (containers, code, HTML blocks, headings, paragraphs) is
read line by line following CommonMark's block algorithm and MyST's block
extensions (fences ``:::``, ``$$`` math, ``(label)=``, ``% comments``,
``{#id}`` attribute lines, front matter). markdown-it-py does the same job
exactly but about ten times slower (measured: about 1.3 ms against 0.1 ms for
a 1 KB page), which alone would put a 10,000-page site out of the checker's
speed target; :mod:`.mdit_scan` keeps the markdown-it-py version, and the
tests check that both find the same links and anchors. The inline part of
each block is read by :mod:`.inline_scan`. Heading titles, the input to
slugs, go through markdown-it-py's inline parser, exactly as MyST's do.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field

from markdown_it.common.normalize_url import normalizeLink, normalizeLinkText
from markdown_it.common.utils import normalizeReference, unescapeAll

from .html_scan import iter_tags, tag_anchors, tag_link
from .inline_scan import scan_inline

# MyST syntax extensions the checker reads, as the site enables them.
MYST_EXTENSIONS = frozenset(
    {"amsmath", "attrs_block", "attrs_inline", "colon_fence", "deflist",
     "dollarmath", "fieldlist"}
)

# Directives whose body is not Markdown; every other directive's body is
# checked like the rest of the page (MyST parses it as Markdown).
CODE_DIRECTIVES = frozenset(
    """
    code code-block sourcecode code-cell literalinclude highlight parsed-literal
    math raw eval-rst csv-table graphviz digraph graph mermaid plantuml plot
    jupyter-execute ipython doctest testcode testoutput testsetup testcleanup
    productionlist toctree autosummary automodule autoclass autofunction
    automethod autoattribute autodata autoexception include
    """.split()
)
# Directives whose argument is a file path, checked for existence.
PATH_ARG_DIRECTIVES = frozenset({"figure", "image", "include", "literalinclude"})
MAX_DIRECTIVE_DEPTH = 20


@dataclass(slots=True)
class Heading:
    level: int
    title: str  # what MyST and GitHub slug: the text and inline code
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
    anchors: dict[str, int] = field(default_factory=dict)  # raw HTML ids, {#id}
    labels: dict[str, int] = field(default_factory=dict)  # MyST (label)=
    links: list[Link] = field(default_factory=list)
    # what Sphinx's ids depend on (see sphinx_rules)
    attr_ids: dict[str, int] = field(default_factory=dict)  # {#id} attributes alone
    footnotes: dict[str, int] = field(default_factory=dict)  # [^label]: definitions
    footnote_refs: list[tuple[int, str]] = field(default_factory=list)  # (line, label)


# -- heading titles -------------------------------------------------------------

_NEWLINE = re.compile("\n")
# The characters that can start an inline rule of the parser below (with linkify off, ":" starts none:
# "Step 1: ..." is plain text; tests/style_guide/test_scan.py checks titles against the parser).
_INLINE_MARKUP = frozenset("*_`[]<>&\\!$~{}\n")


@functools.cache
def _inline_parser():
    # imported lazily: myst_parser's config pulls in docutils
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    md = create_md_parser(MdParserConfig(enable_extensions=set(MYST_EXTENSIONS)), RendererHTML)
    md.disable(["wordcount"], ignoreInvalid=True)
    return md


def heading_title(content: str, references: dict | None = None) -> str:
    """The heading text MyST slugs: its text and inline code, markup dropped
    (as ``myst_parser.mdit_to_docutils.base.compute_unique_slug`` does)."""
    if _INLINE_MARKUP.isdisjoint(content):
        return content  # nothing to parse: one text token
    env = {"references": dict(references or {})}
    tokens = _inline_parser().parseInline(content, env)
    children = (tokens[0].children or []) if tokens else []
    return "".join(c.content for c in children if c.type in ("text", "code_inline"))


_PLAIN_URL = re.compile(r"[A-Za-z0-9;/?:@&=+$,\-_.!~*'()#]*")


def myst_href(dest: str) -> str:
    """A link target as MyST reads it: markdown-it percent-encodes it
    (``#a]`` as ``#a%5D``) and MyST decodes it again, except for reserved
    characters (``%2B`` stays). Link reference definitions are reported this
    way by both scanners, since markdown-it keeps only the encoded form."""
    if _PLAIN_URL.fullmatch(dest):
        return dest  # nothing to encode or decode (the common case)
    return normalizeLinkText(normalizeLink(dest))


def quiet_markdown_it() -> None:
    """Turn off markdown-it-py's per-rule debug logging, a measurable share
    of its parsing time. For the CLI and its worker processes only."""
    import logging

    import markdown_it.parser_block  # noqa: F401  (creates the loggers)

    for name in list(logging.root.manager.loggerDict):
        if name.startswith("markdown_it"):
            logging.getLogger(name).disabled = True


# -- the block scanner ------------------------------------------------------------

_ATX = re.compile(r"(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_ATX_EMPTY_CLOSE = re.compile(r"#+$")
_FENCE = re.compile(r"(`{3,}|~{3,}|:{3,})(.*)$")
_THEMATIC = re.compile(r"(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_SETEXT = re.compile(r"(=+|-+)[ \t]*$")
_LIST_MARKER = re.compile(r"([-+*]|\d{1,9}[.)])(?=[ \t]|$)")
_MYST_TARGET = re.compile(r"\((.+)\)=$")
_FOOTNOTE_DEF = re.compile(r"\[\^[^ \]]+\]:")
_ATTR_BLOCK = re.compile(r"\{(.*)\}[ \t]*$")
_ATTR_ID = re.compile(r"(?:^|\s)#([^\s{}#.]+)")
_DIRECTIVE_INFO = re.compile(r"\{([^}\s]+)\}\s*(.*)")
_OPTION_LINE = re.compile(r"\s*:[\w-]+:")

_HTML_TYPE1 = re.compile(r"<(?:script|pre|style|textarea)(?:\s|>|$)", re.I)
_HTML_TYPE1_END = re.compile(r"</(?:script|pre|style|textarea)>", re.I)
_HTML_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|"
    "dd|details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|"
    "frameset|h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|legend|li|link|main|menu|"
    "menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|"
    "tbody|td|tfoot|th|thead|title|tr|track|ul"
)
_HTML_TYPE6 = re.compile(r"</?(?:" + _HTML_BLOCK_TAGS + r")(?:\s|/?>|$)", re.I)
_ATTRS = r"""(?:\s++[A-Za-z_:][\w.:-]*+(?:\s*+=\s*+(?:[^"'=<>`\s]++|'[^']*+'|"[^"]*+"))?+)*+"""
_HTML_TYPE7 = re.compile(
    r"(?:<[A-Za-z][A-Za-z0-9-]*+" + _ATTRS + r"\s*+/?>|</[A-Za-z][A-Za-z0-9-]*+\s*+>)[ \t]*$"
)
_HTML_ENDS = (
    ("<!--", re.compile(r"-->")),
    ("<?", re.compile(r"\?>")),
    ("<![CDATA[", re.compile(r"\]\]>")),
)
_HTML_DECL = re.compile(r"<![A-Za-z]")

# reference definitions at the start of a paragraph
_REF_DEF = re.compile(
    r"""[ \t]{0,3}\[((?:[^\\\[\]]|\\.){1,999})\]:[ \t]*\n?[ \t]*(<(?:[^<>\n\\]|\\.)*>|[^\s<][^\s]*)"""
    r"""(?:(?:[ \t]*\n[ \t]*|[ \t]+)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\)))?"""
    r"""[ \t]*(?:\n|$)""",
    re.S,
)

_PARA, _FENCED, _INDENTED, _HTML, _MATH = range(1, 6)
# first characters of a line that may start a block, or end a paragraph
_MAY_START_BLOCK = frozenset(" \t#`~:<>*-_+=([{%$|!0123456789\\")


class _Item:
    """An open container: a block quote, or a list item whose content starts
    ``width`` columns in."""

    __slots__ = ("quote", "width", "waiting")

    def __init__(self, quote: bool, width: int = 0, waiting: bool = False):
        self.quote = quote
        self.width = width
        # an item opened by a bare marker, still without content: a blank
        # line now ends it ("a list item can begin with at most one blank line")
        self.waiting = waiting


class _Collector:
    """What the block pass finds, for the inline pass."""

    __slots__ = ("inlines", "references", "page")

    def __init__(self, page: PageScan):
        self.inlines: list[tuple[str, int, int, bool]] = []  # text, line, heading level, in dir
        self.references: dict[str, dict[str, str]] = {}
        self.page = page


def scan_markdown(text: str) -> PageScan:
    """Scan one page's text (already decoded)."""
    page = PageScan()
    out = _Collector(page)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    _scan_lines(text.split("\n"), 1, out, 0, False)
    refs = out.references
    for content, line, level, in_dir in out.inlines:
        if level:
            page.headings.append(Heading(level, heading_title(content, refs), line, in_dir))
        add_inline(content, line, refs, page)
    return page


def _scan_lines(lines: list[str], first_line: int, out, depth: int, in_dir: bool) -> None:
    """Scan a page, or a directive's body (MyST parses it the same way)."""
    start = _front_matter_end(lines)
    _scan_blocks(lines[start:], first_line + start, out, depth, in_dir)


def _front_matter_end(lines: list[str]) -> int:
    """Lines taken by front matter (as mdit_py_plugins.front_matter reads it:
    a first line starting with 3+ dashes, up to a line of as many dashes or
    "..."; unclosed, it is no front matter)."""
    if not lines or not lines[0].startswith("---"):
        return 0
    count = len(lines[0]) - len(lines[0].lstrip("-"))
    for i in range(1, len(lines)):
        t = lines[i].expandtabs(4)
        ind = _indent(t)
        if ind >= 4:
            continue
        u = t[ind:]
        if ind == 0 and u.startswith("...") and not u[3:].strip():
            return i + 1
        dashes = len(u) - len(u.lstrip("-"))
        if dashes >= count and not u[dashes:].strip():
            return i + 1
    return 0


def add_inline(content: str, line: int, references: dict, page: PageScan) -> None:
    """Record the links and anchors of one block's inline text."""
    if "[" not in content and "<" not in content and "{" not in content:
        return  # nothing to find
    found = scan_inline(content, references)
    if "\n" in content:
        breaks = [m.start() for m in _NEWLINE.finditer(content)]
        for off, anchor in found.anchors:
            page.anchors.setdefault(anchor, line + bisect.bisect(breaks, off))
        for off, kind, dest in found.links:
            page.links.append(Link(line + bisect.bisect(breaks, off), kind, dest))
    else:
        breaks = []
        for _, anchor in found.anchors:
            page.anchors.setdefault(anchor, line)
        for _, kind, dest in found.links:
            page.links.append(Link(line, kind, dest))
    for off, anchor in found.attr_ids:
        page.attr_ids.setdefault(anchor, line + bisect.bisect(breaks, off))
    for off, label in found.footnote_refs:
        if label in page.footnotes:  # markdown-it links only defined footnotes
            page.footnote_refs.append((line + bisect.bisect(breaks, off), label))


def add_html_block(content: str, line: int, page: PageScan) -> None:
    """Record the anchors and links of a raw HTML block."""
    if "<" not in content:
        return
    counted = 0  # newlines are counted once, from one tag to the next
    tag_line = line
    for tag in iter_tags(content):
        tag_line += content.count("\n", counted, tag.offset)
        counted = tag.offset
        for anchor in tag_anchors(tag):
            page.anchors.setdefault(anchor, tag_line)
        link = tag_link(tag)
        if link:
            page.links.append(Link(tag_line, link[0], link[1]))


def add_directive(info: str, body: list[str], fence_line: int, out, depth: int, scan) -> None:
    """A ```{name} fence: check a path argument, and scan a Markdown body."""
    m = _DIRECTIVE_INFO.match(info.strip())
    if m is None:
        return  # a plain code block
    name, argument = m.group(1).lower(), m.group(2).strip()
    if name in PATH_ARG_DIRECTIVES and argument:
        out.page.links.append(Link(fence_line, "directive", argument))
    if name in CODE_DIRECTIVES or depth >= MAX_DIRECTIVE_DEPTH:
        return
    skip = 0
    if body and body[0].strip() == "---":
        end = next((i for i in range(1, len(body)) if body[i].strip() == "---"), None)
        skip = 0 if end is None else end + 1
    else:
        while skip < len(body) and _OPTION_LINE.match(body[skip]):
            skip += 1
    scan(body[skip:], fence_line + 1 + skip, out, depth + 1, True)


_PREFIX = re.compile(r"[ \t>]*(?:(?:[-+*]|\d{1,9}[.)])[ \t][ \t>]*)*")
_SPACES = re.compile(" *")


def _expand_indent_tabs(line: str) -> str:
    """Expand tabs (stops every 4 columns) in the indentation and container
    markers only: tabs inside the text stay as they are."""
    end = _PREFIX.match(line).end()
    return line[:end].expandtabs(4) + line[end:]


def _indent(s: str, pos: int = 0) -> int:
    """Number of spaces at ``s[pos:]``'s start (tabs are already expanded)."""
    if pos:
        s = s[pos:]
    return len(s) - len(s.lstrip(" "))


def _html_start(s: str, para_open: bool):
    """If ``s`` (indent removed) opens an HTML block: its end pattern, or
    None for blocks that end at a blank line. ``False`` if it opens none."""
    if _HTML_TYPE1.match(s):
        return _HTML_TYPE1_END
    for prefix, end in _HTML_ENDS:
        if s.startswith(prefix):
            return end
    if _HTML_DECL.match(s):
        return re.compile(">")
    if _HTML_TYPE6.match(s):
        return None
    if not para_open and _HTML_TYPE7.match(s):
        return None
    return False


def _interrupts_paragraph(s: str, footnotes: bool = False) -> bool:
    """Would line ``s`` (at most 3 spaces of indent removed), which does not
    continue the paragraph's containers, end the paragraph instead of
    continuing it lazily? (Any list item does: the restrictions on empty
    items and start numbers apply only inside the paragraph's container.)"""
    if not s:
        return True
    c = s[0]
    if c == "#" and _ATX.match(s):
        return True
    if c in "`~:" and _FENCE.match(s) and not (c == "`" and "`" in _FENCE.match(s).group(2)):
        return True
    if c == "<" and _html_start(s, True) is not False:
        return True
    if c in "*-_" and _THEMATIC.match(s):
        return True
    if c == ">":
        return True
    if c == "(" and _MYST_TARGET.match(s.rstrip()):
        return True
    if c == "%":
        return True
    if c == "[":
        # a footnote definition ends a lazy paragraph of a list item, not of
        # a block quote (markdown-it asks the quote's terminators instead)
        return footnotes and _FOOTNOTE_DEF.match(s) is not None
    return _LIST_MARKER.match(s) is not None


def _scan_blocks(lines: list[str], first_line: int, out: _Collector, depth: int, in_dir: bool) -> None:
    """Read ``lines`` (the first is line ``first_line`` of the file) block by
    block, as CommonMark's parsing strategy does for each line: (1) match the
    open containers, (2) let an open code, HTML or math block take the line,
    (3) continue a paragraph lazily, (4) open new containers, (5) start or
    continue a leaf block. Inline text goes to ``out`` for the inline pass."""
    stack: list[_Item] = []
    leaf = 0
    para: list[str] = []
    para_line = 0
    fence_char, fence_len, fence_indent, fence_info, fence_line = "", 0, 0, "", 0
    fence_body: list[str] = []
    html_end = None
    html_buf: list[str] = []
    html_line = 0
    pending_ids: list[tuple[str, int]] = []
    pending_depth = 0
    quote_was_blank = False
    defs = _Definitions()
    nlines = len(lines)

    def close_leaf() -> None:
        nonlocal leaf
        if leaf == _PARA:
            _flush_paragraph(para, para_line, out, in_dir)
            para.clear()
        elif leaf == _FENCED:
            if fence_info.startswith("{"):
                add_directive(fence_info, list(fence_body), fence_line, out, depth, _scan_lines)
            fence_body.clear()
        elif leaf == _HTML:
            add_html_block("\n".join(html_buf), html_line, out.page)
            html_buf.clear()
        leaf = 0

    def commit_ids(line_no: int) -> None:
        if pending_ids:  # the block gets one id: the last one given (as in mdit_py_plugins)
            anchor = pending_ids[-1][0]
            out.page.anchors.setdefault(anchor, line_no)
            out.page.attr_ids.setdefault(anchor, line_no)
        pending_ids.clear()

    idx = -1
    while idx + 1 < nlines:
        idx += 1
        raw = lines[idx]
        if leaf == _PARA and not stack and raw and raw[0] not in _MAY_START_BLOCK and para[0][0] != "[":
            para.append(raw)  # fast path: plain text continuing a paragraph
            continue
        if not raw and not stack and leaf <= _PARA:
            close_leaf()  # fast path: a blank line outside containers ends a paragraph
            quote_was_blank = False
            continue
        line_no = first_line + idx
        line = _expand_indent_tabs(raw) if "\t" in raw else raw
        n = len(line)
        # Linear in the line's length however deep the containers nest:
        # line[p:] is blank iff p >= content_end, and the spaces at any pos
        # inside the run of spaces ending at run_end are run_end - pos.
        content_end = -1  # computed when needed
        run_end = -1
        # 1. which open containers does this line continue?
        pos = 0
        matched = 0
        for item in stack:
            if pos > run_end:
                run_end = _SPACES.match(line, pos).end()
            if item.quote:
                ind = run_end - pos
                if ind <= 3 and pos + ind < n and line[pos + ind] == ">":
                    pos += ind + 1
                    if pos < n and line[pos] == " ":
                        pos += 1
                    matched += 1
                    continue
                break
            if content_end < 0:
                content_end = len(line.rstrip())
            if pos >= content_end:
                if item.waiting:
                    break
                matched += 1
                continue
            if run_end - pos >= item.width:
                item.waiting = False
                pos += item.width
                matched += 1
                continue
            break
        all_matched = matched == len(stack)
        rest = line[pos:]
        blank = not rest.strip()
        # a $$ math block goes on through lines that leave its list items,
        # and through "lazy" lines (no ">") of its block quotes (as
        # dollarmath reads it inside markdown-it's containers)
        math_goes_on = leaf == _MATH and (
            all_matched or _lazy_for_math(rest, stack[matched:], quote_was_blank)
        )
        quote_was_blank = all_matched and blank and bool(stack) and stack[-1].quote

        # 2. the open leaf block may take the line
        if leaf == _FENCED:
            if all_matched:
                ind = _indent(rest)
                s = rest[ind:].rstrip()
                if ind <= 3 and s and s[0] == fence_char and len(s) >= fence_len and not s.strip(fence_char):
                    close_leaf()
                    continue
                fence_body.append(rest[min(ind, fence_indent):])
                continue
            close_leaf()
        elif leaf == _MATH:
            if math_goes_on:
                if _math_ends(rest):
                    leaf = 0
                continue
            leaf = 0
        elif leaf == _HTML:
            if all_matched:
                if html_end is None:
                    if blank:
                        close_leaf()
                        continue
                    html_buf.append(rest)
                    continue
                html_buf.append(rest)
                if html_end.search(rest):
                    close_leaf()
                continue
            close_leaf()
        elif leaf == _INDENTED:
            if all_matched and (blank or _indent(rest) >= 4):
                continue
            leaf = 0

        # 3. a lazy paragraph continuation line
        if leaf == _PARA and not all_matched and not blank and not defs.end(para, rest):
            ind = _indent(rest)
            footnotes = not any(item.quote for item in stack[matched:])
            if ind >= 4 or not _interrupts_paragraph(rest[ind:], footnotes):
                para.append(rest)
                continue
        if not all_matched:
            close_leaf()
            del stack[matched:]
            if pending_ids and pending_depth > matched:
                pending_ids.clear()  # attributes never leave their container
        elif leaf == _PARA and defs.end(para, rest):
            close_leaf()  # a block of link definitions ends: this line starts a block

        # 4. new containers
        thematic_char, thematic_from = "", 0
        while True:
            if pos > run_end:
                run_end = _SPACES.match(line, pos).end()
            ind = run_end - pos
            if ind >= 4:
                break
            p = pos + ind
            if p < n and line[p] == ">":
                close_leaf()
                commit_ids(line_no)
                stack.append(_Item(True))
                pos = p + 1
                if pos < n and line[pos] == " ":
                    pos += 1
                continue
            if p < n and line[p] == "[":
                m = _FOOTNOTE_DEF.match(line, p)
                if m is None:
                    break
                # a footnote definition: a container whose lines are indented
                # 4 columns (as mdit_py_plugins.footnote reads it)
                close_leaf()
                commit_ids(line_no)
                out.page.footnotes.setdefault(line[p + 2 : m.end() - 2], line_no)
                stack.append(_Item(False, 4))
                # the text after ":" keeps its spaces as indentation, less the
                # content's 4 columns when it has that many (pos: the parent's column)
                spaces = _SPACES.match(line, m.end()).end() - m.end()
                pos = m.end() + (pos + 4 if spaces >= pos + 4 else 0)
                continue
            m = _LIST_MARKER.match(line, p)
            if m is None:
                break
            c = line[p]
            if c in "*-":
                # a thematic break is c (3+ times), spaces and tabs up to the end
                if c != thematic_char:
                    thematic_char, thematic_from = c, len(line.rstrip(c + " \t"))
                if p >= thematic_from and line.count(c, p) >= 3:
                    break
            if content_end < 0:
                content_end = len(line.rstrip())
            empty = m.end() >= content_end
            marker = m.group(1)
            if leaf == _PARA and (empty or (marker[0].isdigit() and int(marker[:-1]) != 1)):
                break  # such an item cannot interrupt a paragraph
            run_end = _SPACES.match(line, m.end()).end()
            spaces = run_end - m.end()
            if empty or spaces >= 5:
                spaces = 1
            close_leaf()
            commit_ids(line_no)
            stack.append(_Item(False, ind + len(marker) + spaces, empty))
            pos = min(n, m.end() + spaces)
        rest = line[pos:]
        blank = not rest.strip()
        if stack and stack[-1].quote:
            quote_was_blank = blank  # e.g. a line holding only ">"

        # 5. the leaf block this line starts or continues
        if blank:
            close_leaf()
            continue
        if pending_ids and not _ATTR_BLOCK.match(rest.strip()) and not (
            _indent(rest) < 4 and _REF_DEF.match(rest) and (leaf != _PARA or defs.only(para))
        ):
            commit_ids(line_no)
        ind = _indent(rest)
        if ind >= 4:
            if leaf == _PARA:
                para.append(rest)
            else:
                close_leaf()
                leaf = _INDENTED
            continue
        s = rest[ind:]
        c = s[0]
        if c == "#":
            m = _ATX.match(s)
            if m:
                close_leaf()
                title = m.group(2) or ""
                if _ATX_EMPTY_CLOSE.fullmatch(title):
                    title = ""
                out.inlines.append((title.strip(), line_no, len(m.group(1)), in_dir))
                continue
        if c in "`~:":
            m = _FENCE.match(s)
            if m and not (c == "`" and "`" in m.group(2)):
                close_leaf()
                leaf = _FENCED
                fence_char, fence_len, fence_indent = c, len(m.group(1)), ind
                fence_info, fence_line = m.group(2).strip(), line_no
                continue
        if c == "<":
            end = _html_start(s, leaf == _PARA)
            if end is not False:
                close_leaf()
                leaf = _HTML
                html_end, html_line = end, line_no
                html_buf.append(s)
                if end is not None and end.search(s):
                    close_leaf()
                continue
        if c in "*-_" and _THEMATIC.match(s):
            if leaf == _PARA and c == "-" and _SETEXT.match(s):
                _flush_heading(para, para_line, 2, out, in_dir)
                para.clear()
                leaf = 0
            else:
                close_leaf()
            continue
        if leaf == _PARA:
            if c in "=-" and _SETEXT.match(s):
                _flush_heading(para, para_line, 1 if c == "=" else 2, out, in_dir)
                para.clear()
                leaf = 0
                continue
            if (c == "(" and _MYST_TARGET.match(s.rstrip())) or c == "%":
                close_leaf()  # and handled below as a new block
            else:
                para.append(rest)
                continue
        # block starts that cannot interrupt a paragraph
        if c == "(":
            m = _MYST_TARGET.match(s.rstrip())
            if m:
                out.page.labels.setdefault(m.group(1), line_no)
                continue
        if c == "%":
            continue  # a MyST comment line
        if c == "{":
            m = _ATTR_BLOCK.match(s)
            if m:
                # the ids go to the next block (none: they are dropped)
                pending_ids.extend((a, line_no) for a in _ATTR_ID.findall(m.group(1)))
                pending_depth = len(stack)
                continue
        if c == "$" and s.startswith("$$"):
            is_math, one_line = _math_block(lines, idx, s, stack)
            if is_math:
                leaf = 0 if one_line else _MATH
                continue
        leaf = _PARA
        para_line = line_no
        defs.reset()
        para.append(s)
    close_leaf()


# A definition whose title runs over more lines than this is not looked for:
# it keeps the test below linear in the paragraph's length.
_MAX_DEFINITION_LINES = 64


class _Definitions:
    """Is the open paragraph nothing but link reference definitions?

    Answered in time linear in the paragraph: definitions before the last one
    cannot change when lines are added, so only the lines from the start of
    the last definition are parsed again."""

    __slots__ = ("base", "settled")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.base = 0  # para[:base] is a run of complete definitions
        self.settled = False  # True: the paragraph is not only definitions

    def only(self, para: list[str], extra: str | None = None) -> bool:
        """Are ``para`` (and ``extra``, a candidate next line) only definitions?"""
        if self.settled:
            return False
        if len(para) - self.base > _MAX_DEFINITION_LINES:
            self.settled = True
            return False
        lines = para[self.base :]
        if extra is not None:
            lines.append(extra)
        text = "\n".join(lines)
        pos = last = 0
        while True:
            m = _REF_DEF.match(text, pos)
            if m is None or m.end() == pos:
                break
            last, pos = pos, m.end()
        if extra is None:
            self.base += text.count("\n", 0, last)
        return pos == len(text)

    def end(self, para: list[str], line: str) -> bool:
        """Is the open paragraph only link definitions, which ``line`` does
        not continue? markdown-it reads definitions as a block of their own,
        which neither continues lazily nor becomes a setext heading; the line
        then starts a new block."""
        return (
            para[0][:1] == "["
            and "]:" in para[0]
            and self.only(para)
            and not self.only(para, line.rstrip())
        )


_MATH_END_LABEL = re.compile(r"\$\$\s*\([^)$\r\n]+?\)\s*$")


def _math_ends(line: str) -> bool:
    t = line.strip()
    return t.endswith("$$") or bool(_MATH_END_LABEL.search(t))


def _math_block(lines: list[str], idx: int, s: str, stack: list[_Item]) -> tuple[bool, bool]:
    """Does a ``$$`` line open a math block (which needs its closing ``$$``
    within the same containers, as dollarmath reads it)? And does the block
    end on this same line?"""
    first = s.strip()
    if len(first) > 3:
        if _math_ends(first[2:]):
            return True, True
        if "$$" in first[2:]:
            return False, False
    for raw in lines[idx + 1 :]:
        line = _expand_indent_tabs(raw) if "\t" in raw else raw
        rest = _continued(line, stack)
        if rest is None:
            return False, False
        if _math_ends(rest):
            return True, False
    return False, False


def _lazy_for_math(rest: str, unmatched: list[_Item], quote_was_blank: bool) -> bool:
    if not any(item.quote for item in unmatched):
        return True  # list items do not bound a $$ block
    return (
        bool(rest.strip())
        and not quote_was_blank
        and (_indent(rest) >= 4 or not _interrupts_paragraph(rest.lstrip(" ")))
    )


def _continued(line: str, stack: list[_Item]) -> str | None:
    """The part of ``line`` that a ``$$`` block opened inside ``stack`` can
    reach (see :func:`_lazy_for_math`), or None."""
    pos = 0
    n = len(line)
    for depth, item in enumerate(stack):
        if item.quote:
            ind = _indent(line, pos)
            if ind <= 3 and pos + ind < n and line[pos + ind] == ">":
                pos += ind + 1
                if pos < n and line[pos] == " ":
                    pos += 1
                continue
        elif not line[pos:].strip() or _indent(line, pos) >= item.width:
            pos = min(n, pos + item.width)
            continue
        rest = line[pos:]
        return rest if _lazy_for_math(rest, stack[depth:], False) else None
    return line[pos:]


def _flush_heading(para: list[str], line: int, level: int, out: _Collector, in_dir: bool) -> None:
    text = _take_definitions("\n".join(para).strip(), out)
    if text is None:
        return
    body, skipped = text
    if body.strip():
        out.inlines.append((body.strip(), line + skipped, level, in_dir))


def _flush_paragraph(para: list[str], line: int, out: _Collector, in_dir: bool) -> None:
    text = _take_definitions("\n".join(para).strip(), out)
    if text is not None and text[0].strip():
        out.inlines.append((text[0], line + text[1], 0, in_dir))


def _take_definitions(text: str, out: _Collector) -> tuple[str, int] | None:
    """Strip link reference definitions from the start of a paragraph.

    Returns the rest and how many lines the definitions took."""
    if not text.startswith("["):
        return text, 0
    pos = 0
    while True:
        m = _REF_DEF.match(text, pos)
        if m is None:
            break
        label = normalizeReference(m.group(1))
        if label.strip():
            dest = m.group(2)
            if dest.startswith("<"):
                dest = dest[1:-1]
            out.references.setdefault(label, {"href": myst_href(unescapeAll(dest)), "title": ""})
        pos = m.end()
    return text[pos:], text.count("\n", 0, pos)

