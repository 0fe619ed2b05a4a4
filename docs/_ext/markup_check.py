"""Fail the build on inline markup that did not render and shows its backquotes to the reader.

reST only ends an inline literal (or a role) before whitespace or certain punctuation.  A
translation that writes ``IPluginV3``（TensorRT 10.0 及以后） -- a full-width opening bracket
right after the literal -- leaves the literal unclosed, and the page shows
"``IPluginV3``（TensorRT..." verbatim.  The fix in a catalog is an escaped space, which
renders as nothing: ``IPluginV3``\\ （...  This extension looks at the text a reader sees
(not code, math or raw HTML) of every page and warns, which fails the ``-W`` build.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

# Double backquotes, or a role that was not parsed (":math:`", ":ref:`").
LEFTOVER = re.compile(r"``|:[a-z][\w-]*:`")
# Where backquotes are content, not markup.
VERBATIM = (nodes.literal, nodes.literal_block, nodes.raw, nodes.comment, nodes.math,
            nodes.math_block, nodes.doctest_block, nodes.system_message)
# Prose a reader sees; text anywhere else (code, generated blocks) is not checked.
PROSE = (nodes.paragraph, nodes.title, nodes.subtitle, nodes.term, nodes.caption, nodes.rubric,
         nodes.line, nodes.emphasis, nodes.strong, nodes.reference, nodes.field_name)


def leftover_markup(doctree: nodes.Node) -> list[tuple[nodes.Text, str]]:
    """(text node, excerpt) for every piece of visible text that still holds inline markup."""
    found = []
    for text in doctree.findall(nodes.Text):
        parent = text.parent
        # sphinx-gallery's linked code (code_links_block) holds source text in inline nodes.
        if not isinstance(parent, PROSE) or any(isinstance(a, VERBATIM) or "code" in type(a).__name__
                                                for a in _ancestors(parent)):
            continue
        value = str(text)
        if match := LEFTOVER.search(value):
            start = max(match.start() - 30, 0)
            found.append((text, value[start:match.end() + 30]))
    return found


def _ancestors(node: nodes.Node):
    while node is not None:
        yield node
        node = node.parent


def _check(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for text, excerpt in leftover_markup(doctree):
        logger.warning(f"inline markup left unrendered ({app.config.language}): {excerpt!r}; in a "
                       "catalog, put '\\ ' between a literal and a full-width bracket",
                       location=text.parent, type="markup", subtype="unrendered")


def setup(app: Sphinx) -> dict:
    app.connect("doctree-resolved", _check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
