"""Sphinx extension: raw HTML anchors (``<a name="2"></a>``, ``<a id>``, any
``id="..."``) become link targets for myst-parser.

Without it, myst-parser warns ``myst.xref_missing`` on ``[x](#2)`` and on
``[x](./page.md#2)`` even when ``page.md`` has ``<a name="2"></a>``: it only
knows heading slugs and labels. With it, such links resolve silently when the
anchor exists, and still fail (file:line, the target) when it does not.

How: myst-parser resolves ``#id`` and ``page.md#id`` against each document's
heading slugs, kept in ``document.myst_slugs`` (same page, by its
``ResolveAnchorIds`` transform) and ``env.metadata[docname]["myst_slugs"]``
(other pages, by ``MystReferenceResolver.resolve_myst_ref_doc``). A transform
that runs just before ``ResolveAnchorIds`` adds every raw HTML anchor of the
document there, without replacing a heading slug of the same name. Anchors
stay per page: ``#2`` on one page never resolves to another page's anchor.

These are myst-parser internals, so :func:`setup` refuses myst-parser
versions outside :data:`SUPPORTED_MYST_PARSER` (the tests build real projects
to prove each supported version).

A second transform, run before Sphinx's i18n ``Locale`` transform, lifts
paragraphs that hold nothing but anchors (``<a name="2"></a>`` on its own
line) out of their ``<p>``: no empty paragraph in the HTML, and no
``<a name=\\"2\\"></a>`` message for translators in the gettext catalogs.

A third pair of transforms keeps translated links on their own fragment.
Sphinx's i18n ``Locale`` transform copies the attributes of each original
cross-reference onto its translation, matching them by (domain, type, target)
only; myst-parser keeps the fragment apart, in ``reftargetid``. So in a
translated paragraph with ``[1. A](./b.md#1)`` and ``[2. B](./b.md#2)`` both
links went to ``b.html#2`` (seen with Sphinx 9.0.4). The fragment joins the
domain of the original link just before ``Locale`` (the domain, not the
target: ``Locale`` also checks that the targets of original and translation
agree) and leaves it right after, so no translated link inherits another
link's fragment.

Last, every link the HTML build renders is checked against the built site
(:class:`DeadLinks`): the target file must exist in the output folder and a
fragment must be an id of the target page. MyST already warns about the
links it cannot resolve; raw HTML links (``<a href="./page.md">``,
``<img src>``) and other references are not checked by anyone else, so a
dead one becomes a warning here (``paddle_style_guide.dead_link``), and a
``-W`` build fails on it. ``python -m paddle_style_guide check --rules
sphinx`` reports the same links before the build.

Enable in conf.py: ``extensions += ["paddle_style_guide.sphinx_ext"]``.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from docutils import nodes
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from sphinx import addnodes
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform
from sphinx.util import logging as sphinx_logging
from sphinx.util.nodes import clean_astext

from . import __version__
from .html_scan import iter_tags, tag_anchors, tag_link

SUPPORTED_MYST_PARSER = SpecifierSet(">=5.2.0,<5.3")
ANCHOR_PRIORITY = 878  # myst-parser's ResolveAnchorIds runs at 879
UNWRAP_PRIORITY = 5  # Sphinx's PreserveTranslatableMessages is 10, Locale 20
FRAGMENT_IN_PRIORITY = 15  # just before Locale
FRAGMENT_OUT_PRIORITY = 21  # just after it
_SAVED_DOMAIN = "paddle_style_guide_refdomain"

_ANCHOR_ONLY_TAG = re.compile(r"\s*(?:<a\s[^<>]*>|</a\s*>)\s*", re.I)


def check_myst_parser(version: str | None = None) -> None:
    """Raise ExtensionError unless myst-parser is a version this extension
    was tested with, with the internals it relies on."""
    import myst_parser

    found = Version(version or myst_parser.__version__)
    if found not in SUPPORTED_MYST_PARSER:
        raise ExtensionError(
            f"paddle_style_guide.sphinx_ext supports myst-parser {SUPPORTED_MYST_PARSER}, "
            f"found {found}. It relies on myst-parser internals (heading slugs in "
            "document.myst_slugs and env.metadata): install a supported myst-parser, or "
            "run tests/style_guide against this one and widen SUPPORTED_MYST_PARSER."
        )
    from myst_parser.mdit_to_docutils.transforms import ResolveAnchorIds
    from myst_parser.sphinx_ext.myst_refs import MystReferenceResolver

    if ResolveAnchorIds.default_priority <= ANCHOR_PRIORITY or not hasattr(
        MystReferenceResolver, "resolve_myst_ref_doc"
    ):
        raise ExtensionError(
            "paddle_style_guide.sphinx_ext: myst-parser's anchor resolution changed; "
            "this extension needs updating"
        )


def html_anchors(document: nodes.document) -> dict[str, tuple[int | None, nodes.raw]]:
    """Raw HTML anchors of a document: id -> (line, the raw node)."""
    found: dict[str, tuple[int | None, nodes.raw]] = {}
    for raw in document.findall(nodes.raw):
        if "html" not in raw.get("format", "").split():
            continue
        text = raw.astext()
        if "<" not in text:
            continue
        for tag in iter_tags(text):
            for anchor in tag_anchors(tag):
                found.setdefault(anchor, (_line(raw), raw))
    return found


def _line(node: nodes.Node) -> int | None:
    while node is not None:
        if node.line:
            return node.line
        node = node.parent
    return None


def _title_after(raw: nodes.raw) -> str:
    """Title of the section that starts right after an anchor, if any (the
    Paddle style: the anchor line, then the heading), for ``[](#2)``."""
    node: nodes.Node | None = raw
    while node is not None and node.parent is not None:
        parent = node.parent
        index = parent.index(node) + 1
        while index < len(parent) and isinstance(parent[index], nodes.raw):
            index += 1  # e.g. the "</a>" after "<a name=...>"
        if index < len(parent):
            following = parent[index]
            if isinstance(following, nodes.section) and following.children:
                return clean_astext(following[0])
            return ""
        if isinstance(parent, (nodes.section, nodes.document)):
            node = parent
        else:
            return ""
    return ""


class UnwrapAnchorParagraphs(SphinxTransform):
    """``<p><a name="2"></a></p>`` -> ``<a name="2"></a>``."""

    default_priority = UNWRAP_PRIORITY

    def apply(self, **kwargs: Any) -> None:
        for para in list(self.document.findall(nodes.paragraph)):
            if not para.children or not all(
                isinstance(child, nodes.Text) and not child.strip()
                or isinstance(child, nodes.raw)
                and "html" in child.get("format", "").split()
                and _ANCHOR_ONLY_TAG.fullmatch(child.astext())
                for child in para.children
            ):
                continue
            raws = [child for child in para.children if isinstance(child, nodes.raw)]
            if not raws:
                continue
            for raw in raws:
                raw.line = raw.line or para.line
                raw.source = raw.source or para.source
            para.replace_self(raws)


class RegisterHtmlAnchors(SphinxTransform):
    """Add the document's raw HTML anchors to its MyST slugs."""

    default_priority = ANCHOR_PRIORITY

    def apply(self, **kwargs: Any) -> None:
        anchors = html_anchors(self.document)
        if not anchors:
            return
        slugs = getattr(self.document, "myst_slugs", None)
        if slugs is None:  # not a MyST document (e.g. reStructuredText)
            slugs = self.document.myst_slugs = {}
        for anchor, (line, raw) in anchors.items():
            if anchor not in slugs and not re.search(r"\s", anchor):
                slugs[anchor] = (line, anchor, _title_after(raw))
        self.env.metadata[self.env.docname]["myst_slugs"] = slugs


class FragmentIntoDomain(SphinxTransform):
    """``refdomain`` ``doc`` with ``reftargetid`` ``1`` -> ``doc#1``: the
    Locale transform, which matches links by (domain, type, target), then
    copies no original link's attributes (its fragment) onto a translation."""

    default_priority = FRAGMENT_IN_PRIORITY

    def apply(self, **kwargs: Any) -> None:
        for xref in self.document.findall(addnodes.pending_xref):
            if xref.get("reftype") == "myst" and xref.get("reftargetid"):
                xref[_SAVED_DOMAIN] = xref.get("refdomain")
                xref["refdomain"] = f"{xref.get('refdomain')}#{xref['reftargetid']}"


class FragmentOutOfDomain(SphinxTransform):
    """Undo :class:`FragmentIntoDomain` on the links that were not translated
    (a translated link is parsed afresh from its message, fragment included)."""

    default_priority = FRAGMENT_OUT_PRIORITY

    def apply(self, **kwargs: Any) -> None:
        for xref in self.document.findall(addnodes.pending_xref):
            if _SAVED_DOMAIN in xref.attributes:
                xref["refdomain"] = xref.attributes.pop(_SAVED_DOMAIN)


logger = sphinx_logging.getLogger(__name__)
_MYST_REFS_LOGGER = "sphinx.myst_parser.sphinx_ext.myst_refs"


class _MystWarnings(logging.Filter):
    """Notes where MyST warned about a link it could not resolve, so that
    :class:`DeadLinks` does not warn about the same link a second time."""

    def __init__(self) -> None:
        super().__init__()
        self.places: set[tuple[str, int]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        node = getattr(record, "location", None)
        if isinstance(node, nodes.Node):
            line = _line(node)
            if line is not None:
                self.places.add((node.get("refdoc", ""), line))
        return True


class DeadLinks:
    """Check the built site's links: collected per page when its doctree
    is resolved, checked once every page is written."""

    def __init__(self) -> None:
        self.links: list[tuple[str, int | None, str, bool]] = []  # docname, line, url, raw
        self.myst = _MystWarnings()
        self._ids: dict[str, set[str]] = {}

    def setup(self, app) -> None:
        logging.getLogger(_MYST_REFS_LOGGER).addFilter(self.myst)
        app.connect("doctree-resolved", self.collect)
        app.connect("build-finished", self.check)

    @staticmethod
    def _checks(app) -> bool:
        return app.builder.format == "html" and hasattr(app.builder, "get_outfilename")

    def collect(self, app, doctree: nodes.document, docname: str) -> None:
        if not self._checks(app):
            return
        for node in doctree.findall(nodes.reference):
            if "refuri" in node:
                url = node["refuri"]
            elif "refid" in node:
                url = "#" + node["refid"]
            else:
                continue
            if (docname, _line(node)) in self.myst.places:
                continue  # MyST warned already
            self.links.append((docname, _line(node), url, False))
        for raw in doctree.findall(nodes.raw):
            if "html" not in raw.get("format", "").split() or "<" not in raw.astext():
                continue
            for tag in iter_tags(raw.astext()):
                link = tag_link(tag)
                if link:
                    self.links.append((docname, _line(raw), link[1], True))

    def check(self, app, exception: Exception | None) -> None:
        logging.getLogger(_MYST_REFS_LOGGER).removeFilter(self.myst)
        if exception is not None or not self._checks(app):
            self.links.clear()
            return
        outdir = str(app.builder.outdir)
        for docname, line, url, raw in self.links:
            why = self._dead(app, outdir, docname, url)
            if why:
                kind = "raw HTML link" if raw else "link"
                logger.warning("dead %s in the built site: %s (%s)", kind, url, why,
                               location=(docname, line), type="paddle_style_guide",
                               subtype="dead_link")
        self.links.clear()
        self._ids.clear()

    def _dead(self, app, outdir: str, docname: str, url: str) -> str | None:
        parts = urlsplit(url.strip())
        if parts.scheme or parts.netloc:
            return None  # external
        here = os.path.relpath(app.builder.get_outfilename(docname), outdir).replace(os.sep, "/")
        path = unquote(parts.path)
        if path:
            base = "" if path.startswith("/") else posixpath.dirname(here)
            target = posixpath.normpath(posixpath.join(base, path.lstrip("/")))
        else:
            target = here
        full = os.path.join(outdir, target)
        if os.path.isdir(full):
            full = os.path.join(full, "index.html")
            target = posixpath.join(target, "index.html")
        if not os.path.isfile(full):
            return f"no {target} in the site"
        fragment = unquote(parts.fragment)
        if fragment and full.endswith((".html", ".htm")) and fragment not in self._page_ids(full):
            return f"no id \"{fragment}\" in {target}"
        return None

    def _page_ids(self, path: str) -> set[str]:
        if path not in self._ids:
            with open(path, encoding="utf-8", errors="replace") as fh:
                self._ids[path] = {a for tag in iter_tags(fh.read()) for a in tag_anchors(tag)}
        return self._ids[path]


def setup(app) -> dict[str, Any]:
    check_myst_parser()
    app.setup_extension("myst_parser")
    app.add_transform(UnwrapAnchorParagraphs)
    app.add_transform(RegisterHtmlAnchors)
    app.add_transform(FragmentIntoDomain)
    app.add_transform(FragmentOutOfDomain)
    DeadLinks().setup(app)
    return {
        "version": __version__,
        "env_version": 1,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
