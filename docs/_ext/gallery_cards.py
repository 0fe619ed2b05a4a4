"""Gallery index cards (thumbnail title and tooltip) in the page's language, as plain text.

sphinx-gallery writes each card as raw HTML holding the English title and first paragraph of
the script's docstring, with the reST markup left in (``IInt8MinMaxCalibrator`` shows its
backquotes).  Raw HTML is no gettext message, so the Chinese index would stay English.  The
example page itself is translated, though: this extension takes the card's title and tooltip
from that page's doctree in the language being built, as the reader will see them there.
"""

from __future__ import annotations

import html
import re

from docutils import nodes
from sphinx.application import Sphinx

from figure_catalog import tidy_chinese_spacing

CJK = re.compile(r"[\u3400-\u9fff]")
CARD = re.compile(r'(<div class="sphx-glr-thumbcontainer"[^>]*?tooltip=")[^"]*(")')
TITLE = re.compile(r'(<div class="sphx-glr-thumbnail-title">).*?(</div>)', re.S)
# images/thumb/[zh_CN/]sphx_glr_<name>_thumb.png, in the folder of the example pages.
THUMB = re.compile(r"^/?(?P<folder>.*)/images/thumb/(?:[^/]+/)?sphx_glr_(?P<stem>.+)_thumb\.\w+$")
# \mathrm{amax} reads as amax in a tooltip.
_MATH_TEXT = re.compile(r"\\(?:mathrm|text|operatorname|mathit)\{([^{}]*)\}")


def _plain(node: nodes.Node) -> str:
    """The text a reader sees, markup gone; inline math keeps its letters."""
    parts = []
    for child in node.findall(nodes.Text):
        text = str(child)
        if isinstance(child.parent, nodes.math):
            text = _MATH_TEXT.sub(r"\1", text)
        parts.append(text)
    text = " ".join("".join(parts).split())
    return tidy_chinese_spacing(text) if CJK.search(text) else text


def title_and_intro(doctree: nodes.document) -> tuple[str, str]:
    """The first section's title and its first paragraph, as plain text."""
    section = next(doctree.findall(nodes.section), None)
    if section is None:
        return "", ""
    title = _plain(section[0]) if isinstance(section[0], nodes.title) else ""
    paragraph = next((child for child in section.children if isinstance(child, nodes.paragraph)), None)
    return title, _plain(paragraph) if paragraph is not None else title


def _replace_raw(node: nodes.raw, text: str) -> None:
    node.replace_self(nodes.raw(text, text, format=node.get("format", "html")))


def _localize_cards(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    card: nodes.raw | None = None
    example: tuple[str, str] | None = None
    for node in list(doctree.findall(lambda n: isinstance(n, (nodes.raw, nodes.image)))):
        if isinstance(node, nodes.raw) and CARD.search(node.astext()):
            card, example = node, None
        elif isinstance(node, nodes.image) and card is not None and (match := THUMB.match(node["uri"])):
            page = f"{match['folder']}/{match['stem']}"
            if page in app.env.all_docs:
                example = title_and_intro(app.env.get_doctree(page))
                if example[1]:
                    _replace_raw(card, CARD.sub(lambda m: m[1] + html.escape(example[1]) + m[2],
                                                card.astext()))
        elif isinstance(node, nodes.raw) and example and TITLE.search(node.astext()):
            if example[0]:
                _replace_raw(node, TITLE.sub(lambda m: m[1] + html.escape(example[0], quote=False) + m[2],
                                             node.astext()))
            card, example = None, None


def setup(app: Sphinx) -> dict:
    app.connect("doctree-resolved", _localize_cards)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
