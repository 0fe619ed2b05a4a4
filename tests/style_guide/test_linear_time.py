"""Hostile pages are scanned in time linear in their size.

Each case was quadratic (or worse) once: a single-line raw-HTML block counted
newlines from the block's start for every tag (25 s for 2.2 MB), a list nested
thousands deep re-read its indentation once per open item, a long block of
link definitions was parsed again for every line, an unclosed ``<!--`` or an
unmatched run of backticks searched to the end of the line again and again.

No absolute time is asserted (the machine may be busy): the cost per byte of
each hostile page must stay within a generous factor of the cost per byte of
an ordinary page. At the sizes used here the quadratic versions cost 20 to
thousands of times more per byte than the ordinary page.
"""

from __future__ import annotations

import time

import pytest

from paddle_style_guide.markdown_scan import scan_markdown
from paddle_style_guide.mdit_scan import scan_markdown_mdit

ORDINARY_UNIT = (
    "# Title\n\nSome text with a [link](./page.md#1) and `code`, "
    '<a name="x"></a> more text.\n\n- item [a](#b)\n'
)
FACTOR = 10  # the linear versions measured 0.05x to 3x the ordinary page
# the nested list costs 0.1x the ordinary page per byte; the cubic version 12x at 2,000 levels
FACTORS = {"deeply nested list": 3}


def _seconds(text: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        scan_markdown(text)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.fixture(scope="module")
def ordinary_cost() -> float:
    """Seconds per byte for an ordinary page of 200 kB."""
    text = ORDINARY_UNIT * (200_000 // len(ORDINARY_UNIT))
    return _seconds(text) / len(text)


HOSTILE = {
    # 2,000 levels of nested list items, each line indented under the last
    "deeply nested list": lambda: "".join("  " * i + "- item\n" for i in range(2000)),
    # 50,000 list markers on one line
    "list markers on one line": lambda: "- " * 50_000 + "x\n",
    # one raw-HTML block on a single line with 50,000 tags
    "single-line HTML block": lambda: "<div>" + '<a name="x">y</a> ' * 50_000 + "</div>\n",
    # 15,000 link reference definitions in a row
    "link definitions": lambda: "".join(f"[r{i}]: ./p{i}.md#x\n" for i in range(15_000)),
    # 40,000 comment openers that are never closed
    "unclosed comments": lambda: "x <!-- " * 40_000 + "\n",
    # 100,000 link openers, then 20,000 links
    "link openers": lambda: "[" * 100_000 + "[a](b)" * 20_000 + "\n",
    # runs of 1 to 700 backticks, none closed
    "unmatched backticks": lambda: " ".join("`" * k + "a" for k in range(1, 700)) + "\n",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_page_is_scanned_in_linear_time(name, ordinary_cost):
    text = HOSTILE[name]()
    cost = _seconds(text, repeat=2) / len(text)
    assert cost < FACTORS.get(name, FACTOR) * ordinary_cost, (
        f"{name}: {cost / ordinary_cost:.1f}x the cost per byte of an ordinary page "
        f"({len(text):,} bytes)")


def test_line_numbers_in_a_single_line_html_block_and_after_it():
    """The incremental newline count still gives every tag its own line."""
    page = scan_markdown(
        '<div><a name="a"></a>\n<a name="b"></a> <a href="./x.md">x</a>\n\n'
        '<a name="c"></a></div>\n\n[y](#z)\n'
    )
    assert page.anchors == {"a": 1, "b": 2, "c": 4}
    assert [(link.line, link.target) for link in page.links] == [(2, "./x.md"), (6, "#z")]


def test_link_definitions_then_text_still_end_the_definition_block():
    text = "[a]: ./a.md\n[b]: ./b.md\n" + "text [c][a]\n" * 3 + "===\n"
    page = scan_markdown(text)
    # the text after the definitions is a setext heading of its own
    assert [(h.level, h.line) for h in page.headings] == [(1, 3)]
    assert [(link.line, link.target) for link in page.links] == [(3, "./a.md"), (4, "./a.md"),
                                                                 (5, "./a.md")]
    assert page == scan_markdown_mdit(text)
