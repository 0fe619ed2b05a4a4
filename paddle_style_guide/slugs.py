"""Heading slugs, as MyST and as GitHub compute them.

MyST's slug function is public API (``myst_parser.slugs``), so it is imported,
not copied: the checker then agrees with the site build by construction.
GitHub's algorithm (as in github-slugger, which github.com matches) is small
enough to write down here.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Container, Iterable

from myst_parser.slugs import github_slugify as _myst_github_slugify
from myst_parser.slugs import unique_slug as _myst_unique_slug

__all__ = ["myst_slug", "myst_slugs", "github_slug", "github_slugs"]


def myst_slug(title: str, existing: Container[str] = ()) -> str:
    """Slug of ``title`` as myst-parser computes it (``myst_heading_slug_func``
    left at its default), made unique against ``existing`` with -1, -2, ...

    An empty result means MyST gives the heading no anchor.
    """
    slug = _myst_github_slugify(title)
    return _myst_unique_slug(slug, existing) if slug else ""


def myst_slugs(titles: Iterable[str]) -> list[str]:
    """Slugs for a page's headings in document order (empty: no anchor)."""
    seen: dict[str, None] = {}
    out = []
    for title in titles:
        slug = myst_slug(title, seen)
        if slug:
            seen[slug] = None
        out.append(slug)
    return out


# GitHub keeps letters, marks, numbers and connector punctuation (such as "_"),
# plus "-" and the space (which becomes "-"); everything else is dropped:
# punctuation, symbols (emoji included) and other separators.
_GITHUB_KEEP_CATEGORIES = frozenset("Lu Ll Lt Lm Lo Mn Mc Me Nd Nl No Pc".split())


_ASCII_DROP = re.compile(r"[^a-z0-9 _-]")
_KEEP: dict[str, bool] = {}  # character -> kept by GitHub (memo of category lookups)


@functools.lru_cache(maxsize=4096)
def github_slug(title: str) -> str:
    """Slug of ``title`` as GitHub computes it, before de-duplication."""
    lower = title.lower()
    if lower.isascii():
        return _ASCII_DROP.sub("", lower).replace(" ", "-")
    out = []
    for ch in lower:
        keep = _KEEP.get(ch)
        if keep is None:
            keep = _KEEP[ch] = (
                ch in " -_"
                or (ch.isascii() and ch.isalnum())
                or unicodedata.category(ch) in _GITHUB_KEEP_CATEGORIES
            )
        if keep:
            out.append(ch)
    return "".join(out).replace(" ", "-")


def github_slugs(titles: Iterable[str]) -> list[str]:
    """Unique slugs for a page's headings in document order, as GitHub makes
    them: the second "x" becomes "x-1", the third "x-2", skipping any suffix
    already taken by another heading."""
    occurrences: dict[str, int] = {}
    out = []
    for title in titles:
        slug = base = github_slug(title)
        while slug in occurrences:
            occurrences[base] += 1
            slug = f"{base}-{occurrences[base]}"
        occurrences[slug] = 0
        out.append(slug)
    return out
