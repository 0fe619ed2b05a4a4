"""Best-effort anchors of a reStructuredText page (a Markdown link may point
into one, e.g. a sphinx-gallery page): section ids as docutils makes them,
explicit targets, ``:name:`` options, and raw HTML ids."""

from __future__ import annotations

import re

from myst_parser.slugs import docutils_slugify

from .html_scan import iter_tags, tag_anchors

_TARGET = re.compile(r"^\.\.\s+_(`[^`]+`|[^:`][^:]*):\s*$", re.M)
_NAME_OPTION = re.compile(r"^\s+:name:\s*(\S.*?)\s*$", re.M)
_ADORNMENT = re.compile(r"""^([!-/:-@\[-`{-~])\1+\s*$""")


def _name(label: str) -> str:
    return " ".join(label.strip("`").lower().split())


def rst_anchors(text: str) -> set[str]:
    anchors: set[str] = set()
    for m in _TARGET.finditer(text):
        name = _name(m.group(1))
        anchors.update((name, docutils_slugify(name)))
    for m in _NAME_OPTION.finditer(text):
        name = _name(m.group(1))
        anchors.update((name, docutils_slugify(name)))
    lines = text.split("\n")
    for i in range(1, len(lines)):
        title = lines[i - 1].strip()
        if title and _ADORNMENT.match(lines[i]) and len(lines[i].rstrip()) >= len(title):
            if not _ADORNMENT.match(lines[i - 1]):
                anchors.add(docutils_slugify(title))
    if "<" in text:
        for tag in iter_tags(text):
            anchors.update(tag_anchors(tag))
    anchors.discard("")
    return anchors


def rst_model_parts(text: str) -> tuple[list[str], list[str], list[str]]:
    """Section titles, explicit target names and raw HTML ids of a
    reStructuredText page, in order (for ``--rules sphinx``)."""
    targets = [_name(m.group(1)) for m in _TARGET.finditer(text)]
    targets += [_name(m.group(1)) for m in _NAME_OPTION.finditer(text)]
    sections = []
    lines = text.split("\n")
    for i in range(1, len(lines)):
        title = lines[i - 1].strip()
        if title and _ADORNMENT.match(lines[i]) and len(lines[i].rstrip()) >= len(title):
            if not _ADORNMENT.match(lines[i - 1]):
                sections.append(title)
    html = [a for tag in iter_tags(text) for a in tag_anchors(tag)] if "<" in text else []
    return sections, targets, html
