"""The Markdown scanner: which links and anchors a page has, and where."""

from paddle_style_guide.markdown_scan import scan_markdown
from paddle_style_guide.mdit_scan import scan_markdown_mdit


def links(text):
    return [(link.line, link.kind, link.target) for link in scan_markdown(text).links]


def test_paddle_style_page():
    page = scan_markdown(
        "# 标题1\n"
        "\n"
        "- [1. 标题2](#1)\n"
        "- [3. 标题3](./222.md#2)\n"
        "\n"
        '<a name="1"></a>\n'
        "## 1. 标题2\n"
        "text\n"
        '<a name="2"></a>\n'
        "## 2. 标题3 ##\n"
    )
    assert [(h.level, h.title, h.line) for h in page.headings] == [
        (1, "标题1", 1), (2, "1. 标题2", 7), (2, "2. 标题3", 10)]
    assert page.anchors == {"1": 6, "2": 9}
    assert [(link.line, link.target) for link in page.links] == [(3, "#1"), (4, "./222.md#2")]


def test_code_is_not_scanned():
    text = (
        "```python\n[a](#fenced)\n```\n"
        "~~~\n<a name=\"tilde\"></a>\n~~~\n"
        ":::\n[c](#colon)\n:::\n"
        "\n    [d](#indented)\n\n"
        "`[e](#inline)` and ``[f](#double) ` `` and [g](#real)\n"
        "<!-- [h](#comment) <a name=\"commented\"></a> -->\n"
        "> ```\n> [i](#quoted-fence)\n> ```\n"
        "- item\n\n      [j](#code-in-item)\n"
    )
    page = scan_markdown(text)
    assert [link.target for link in page.links] == ["#real"]
    assert page.anchors == {}


def test_inline_code_never_crosses_a_line():
    text = "An unbalanced ` here, [a link](#one),\nand a `pair` on the next line [two](#two).\n"
    assert links(text) == [(1, "link", "#one"), (2, "link", "#two")]


def test_line_numbers_inside_paragraphs_lists_and_quotes():
    text = (
        "para line one\n"
        "line two [a](#a) and\n"
        "[multi\nline](#b)\n"
        "\n"
        "1. first\n"
        "   continued [c](#c)\n"
        "\n"
        "> quoted\n"
        "> [d](#d)\n"
        "lazy [e](#e)\n"
    )
    assert [(line, target) for line, _, target in links(text)] == [
        (2, "#a"), (3, "#b"), (7, "#c"), (10, "#d"), (11, "#e")]


def test_link_forms():
    text = (
        '[inline](./a.md#x "title") [angle](<./b c.md#y>) ![img](i.png)\n'
        "[![badge](b.png)](./page.md#top) [ref][r] [collapsed][] [r]\n"
        '<a href="./h.md#z">raw</a> <img src="raw.png" alt=""> <https://example.org/x>\n'
        "[esc\\]aped](./e.md) \\[not a link](#no) [paren](./p(1).md)\n"
        "\n"
        "[r]: ./ref.md#r\n"
        "[collapsed]: ./col.md\n"
    )
    assert links(text) == [
        (1, "link", "./a.md#x"),
        (1, "link", "./b c.md#y"),
        (1, "image", "i.png"),
        (2, "link", "./page.md#top"),
        (2, "image", "b.png"),
        (2, "link", "./ref.md#r"),
        (2, "link", "./col.md"),
        (2, "link", "./ref.md#r"),
        (3, "html-link", "./h.md#z"),
        (3, "html-image", "raw.png"),
        (3, "autolink", "https://example.org/x"),
        (4, "link", "./e.md"),
        (4, "link", "./p(1).md"),
    ]


def test_headings_setext_closing_and_inline_markup():
    page = scan_markdown(
        "Setext one\n===\n\nSetext *two*\n---\n\n## Closed ##\n\n### `code` and [link](#x)\n"
    )
    assert [(h.level, h.title, h.line) for h in page.headings] == [
        (1, "Setext one", 1), (2, "Setext two", 4), (2, "Closed", 7), (3, "code and link", 9)]


def test_anchor_sources():
    page = scan_markdown(
        '<div id="block-id">\n'
        "[not a link in raw HTML](#x)\n"
        "</div>\n"
        "\n"
        '<a id="a-id"></a> <span id="span-id">x</span> <a name="a-name"></a>\n'
        '<a name="has space"></a> <p name="not-on-p"></p>\n'
        "\n"
        "(my-label)=\n"
        "{#attr-id}\n"
        "## Heading\n"
    )
    assert page.anchors == {"block-id": 1, "a-id": 5, "span-id": 5, "a-name": 5, "attr-id": 10}
    assert page.labels == {"my-label": 8}
    assert page.links == []


def test_directives():
    page = scan_markdown(
        "```{note}\n"
        ":class: tip\n"
        "A [note link](#in-note).\n"
        "```\n"
        "```{code-block} markdown\n"
        "[not checked](#code)\n"
        "```\n"
        ":::{figure} ./img/f.png\n"
        ":alt: f\n"
        "\n"
        "Caption with [a link](#cap).\n"
        ":::\n"
    )
    assert sorted((link.line, link.kind, link.target) for link in page.links) == [
        (3, "link", "#in-note"), (8, "directive", "./img/f.png"), (11, "link", "#cap")]


def test_front_matter_and_myst_comments_are_skipped():
    assert links("---\ntitle: '[x](#front)'\n---\n% [y](#comment)\n[z](#real)\n") == [
        (5, "link", "#real")]


def test_fast_scanner_agrees_with_markdown_it_on_the_fixtures(seed_page):
    from conftest import FIXTURES

    pages = [p.read_text("utf-8") for p in sorted(FIXTURES.rglob("*.md"))]
    pages.append(seed_page.read_text("utf-8"))
    for text in pages:
        assert scan_markdown(text) == scan_markdown_mdit(text)


def test_footnote_definitions_are_containers_as_in_markdown_it():
    """Issue 18: an autolink inside a footnote definition was lost by the
    default scanner (read as a link reference definition) but found by --exact."""
    text = (
        "Text[^1] and[^long].\n"
        "\n"
        "[^1]: <https://example.com/a>\n"
        "[^long]: first [a](#a)\n"
        "\n"
        "    second <https://example.com/b>\n"
        "lazy [b](#b)\n"
        "\n"
        "[^code]:        <https://example.com/in-code>\n"
    )
    expected = [
        (3, "autolink", "https://example.com/a"),
        (4, "link", "#a"),
        (6, "autolink", "https://example.com/b"),
        (7, "link", "#b"),
    ]
    assert links(text) == expected
    assert [(link.line, link.kind, link.target) for link in scan_markdown_mdit(text).links] == expected


def test_bracketed_fragments_agree_between_the_scanners():
    """Issue 18: "#what-is-a-universee]" in a reference definition came out as
    "#...%5D" from markdown-it and as "#...]" from the default scanner."""
    text = (
        "[inline](#what-is-a-universee]) [ref] [enc]\n"
        "\n"
        "[ref]: #what-is-a-universee]\n"
        "[enc]: ./p.md#a%5Db\n"
    )
    expected = [(1, "link", "#what-is-a-universee]"), (1, "link", "#what-is-a-universee]"),
                (1, "link", "./p.md#a]b")]
    assert links(text) == expected
    assert scan_markdown(text) == scan_markdown_mdit(text)


def test_plain_heading_titles_skip_the_inline_parser_only_when_it_would_return_them_unchanged():
    """heading_title returns a title without markup characters as it is; the inline parser agrees,
    colons, URLs and non-ASCII text included (with linkify off, ":" starts no inline rule)."""
    import random

    from paddle_style_guide import markdown_scan

    parse = markdown_scan._inline_parser().parseInline
    pieces = ["Step 1:", " ", "::", "http://x.y/z?a=b", "mailto:a@b.c", "www.x.com", "量化", "（注意）", "é",
              "\u00a0", "1.", "a-b", "#", "%", "'", '"', "(x)", "=", "+", "|", "?"]
    rng = random.Random(0)
    for _ in range(3000):
        title = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))).strip()
        if not title or not markdown_scan._INLINE_MARKUP.isdisjoint(title):
            continue
        tokens = parse(title, {"references": {}})
        parsed = "".join(c.content for c in tokens[0].children if c.type in ("text", "code_inline"))
        assert markdown_scan.heading_title(title) == parsed == title
    assert markdown_scan.heading_title("Step 1: *now*") == "Step 1: now"  # markup still goes through it
