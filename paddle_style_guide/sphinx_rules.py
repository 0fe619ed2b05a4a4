"""``check --rules sphinx``: links resolved as the site build resolves them.

The build is Sphinx with myst-parser and :mod:`paddle_style_guide.sphinx_ext`.
For a Markdown link, MyST (``myst_parser.mdit_to_docutils`` and
``myst_parser.sphinx_ext.myst_refs``) does this:

* ``#id``: an explicit target name of the page (``(label)=``, ``{#id}``), a
  heading slug (levels up to ``myst_heading_anchors``) or a raw HTML anchor
  (added by the extension); then, project-wide, a label (case-insensitive)
  or a document name; then any docutils name or id of the page (section ids
  such as ``commit`` for "提交（commit）", auto ids such as ``id1``).
* ``path#id``: the path is decoded as markdown-it decodes it (``%2B`` stays),
  taken from the page's folder (or the source folder for ``/path``); an
  existing file that is a document links to it, any other existing file
  becomes a download. The fragment must be a slug, a section id of a slugged
  heading, or a label of that document, else the build warns; the link still
  works when the id exists in the page.
* anything else (``page.html``, ``page#id``, ``dir/``, a missing file) is
  looked up as a label or document name (``page`` works) and otherwise
  rendered as a dead ``#page.html`` link, with a warning.

Raw HTML (``<a href>``, ``<img src>``) is copied into the page unchanged, so
it is resolved against the built site: ``page.html`` exists, ``page.md``
does not, and images are not copied.

:func:`page_model` computes what Sphinx assigns to a page: docutils ids
(``make_id`` of each name, ``idN`` when that is empty or taken), names,
labels, MyST slugs; the agreement test builds real pages with Sphinx and
compares.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from docutils.nodes import fully_normalize_name, make_id
from .markdown_scan import PageScan, myst_href
from .rst_scan import rst_model_parts
from .slugs import myst_slugs
from .sphinx_conf import SphinxConf

ERROR, WARNING = "error", "warning"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")  # as myst_parser's REGEX_SCHEME
_WHITESPACE = re.compile(r"\s")


@dataclass(slots=True)
class PageModel:
    """What the build knows about one page."""

    slugs: dict[str, str] = field(default_factory=dict)  # slug or raw HTML anchor -> id
    labels: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (id, titled)
    names: set[str] = field(default_factory=set)  # docutils names (reflocalid)
    ids: set[str] = field(default_factory=set)  # document.ids, footnotes left out
    html_ids: set[str] = field(default_factory=set)  # every id of the built page
    local_ids: bool = True  # False: a page whose ids are not known (a notebook)


def page_model(scan: PageScan, heading_anchors: int) -> PageModel:
    """Ids, names, labels and slugs of a MyST page, in the order in which
    docutils and myst-parser assign them while the page is parsed."""
    model = PageModel()
    ids: set[str] = set()
    counter = 0

    def set_id(name: str) -> str:
        nonlocal counter
        base = make_id(name)
        if base and base not in ids:
            ids.add(base)
            return base
        while True:
            counter += 1
            auto = f"id{counter}"
            if auto not in ids:
                ids.add(auto)
                return auto

    heading_lines = {h.line for h in scan.headings}
    events: list[tuple[int, int, str, object]] = []
    for index, heading in enumerate(scan.headings):
        events.append((heading.line, 2, "heading", index))
    for label, line in scan.labels.items():
        events.append((line, 0, "label", label))
    for anchor, line in scan.attr_ids.items():
        if line not in heading_lines:
            events.append((line, 0, "attr", anchor))
    for line, label in scan.footnote_refs:
        events.append((line, 1, "footnote-ref", label))
    events.sort(key=lambda e: (e[0], e[1]))

    titled_lines = {h.line for h in scan.headings}
    attr_on_heading: dict[int, list[str]] = {}
    for anchor, line in scan.attr_ids.items():
        if line in heading_lines:
            attr_on_heading.setdefault(line, []).append(anchor)
    slugs = myst_slugs(h.title if h.level <= heading_anchors else "" for h in scan.headings)
    implicit_seen: dict[str, int] = {}
    for line, _, kind, value in events:
        if kind == "heading":
            heading = scan.headings[value]
            primary = None
            for anchor in attr_on_heading.get(line, []):  # {#id} above the heading
                name = fully_normalize_name(anchor)
                model.names.add(name)
                if primary is None:
                    primary = set_id(name)  # the first explicit name gives the id
                model.labels.setdefault(name, (primary, True))
            name = fully_normalize_name(heading.title)
            implicit_seen[name] = implicit_seen.get(name, 0) + 1
            if primary is None:
                primary = set_id(name)
            slug = slugs[value]
            if slug:
                model.slugs.setdefault(slug, primary)
        elif kind == "label":
            name = fully_normalize_name(value)
            label_id = set_id(name)
            model.names.add(name)
            # a label right above a heading names a section: it has a title
            titled = any(line < t <= line + 2 for t in titled_lines)
            model.labels.setdefault(name, (label_id, titled))
        elif kind == "attr":
            name = fully_normalize_name(value)
            model.names.add(name)
            model.labels.setdefault(name, (set_id(name), False))
        else:  # a footnote reference takes an auto id where it stands
            set_id("")
    for name, count in implicit_seen.items():
        if count == 1:
            model.names.add(name)  # a duplicated implicit name resolves to nothing
    # slugs become secondary ids of their headings when free (myst AddSlugIds)
    for slug in model.slugs:
        if not _WHITESPACE.search(slug):
            ids.add(slug)
    model.ids = set(ids)
    # footnote definitions come last (markdown-it moves them to the end),
    # in the order of their first reference; unreferenced ones are dropped
    for label in dict.fromkeys(label for _, label in scan.footnote_refs):
        ids.add(set_id("" if label.isdigit() else fully_normalize_name(label)))
    # raw HTML anchors: real ids of the page, and slugs for MyST (the extension)
    attr = set(scan.attr_ids)
    for anchor in scan.anchors:
        if anchor in attr:
            continue
        ids.add(anchor)
        if anchor not in model.slugs and not _WHITESPACE.search(anchor):
            model.slugs[anchor] = anchor
    model.html_ids = ids
    return model


def rst_page_model(text: str) -> PageModel:
    """Best effort for a reStructuredText page: section ids, explicit
    targets (labels) and raw HTML anchors."""
    sections, targets, html = rst_model_parts(text)
    model = PageModel()
    ids: set[str] = set()
    for name in targets:
        label_id = make_id(name)
        model.labels[name] = (label_id, True)
        model.names.add(name)
        ids.add(label_id)
    for title in sections:
        name = fully_normalize_name(title)
        model.names.add(name)
        if make_id(name):
            ids.add(make_id(name))
    model.ids = set(ids)
    for anchor in html:
        ids.add(anchor)
        model.slugs.setdefault(anchor, anchor)
    model.html_ids = ids
    return model


# -- the project -----------------------------------------------------------------


class SphinxProject:
    """The documents of one Sphinx project and what links can reach in it.

    ``model_of(path)`` gives a page's :class:`PageModel` (or why it cannot be
    known); it is supplied by the checker, which scans pages (in parallel)."""

    def __init__(self, conf: SphinxConf, model_of: Callable[[str], PageModel | str]):
        from sphinx.project import EXCLUDE_PATHS
        from sphinx.util.matching import Matcher

        self.conf = conf
        self.srcdir = os.path.realpath(conf.srcdir)
        self._model_of = model_of
        excludes = list(conf.exclude_patterns) + list(EXCLUDE_PATHS)
        excludes += [os.path.relpath(p, conf.srcdir) for p in conf.extra_paths + conf.static_paths]
        self._include = Matcher(list(conf.include_patterns))
        self._exclude = Matcher(excludes)
        self._docs: dict[str, bool] = {}  # docname -> in the build
        self._resolved: dict[tuple[str, str], str] = {}  # (folder, path) -> absolute path
        self._prefix = self.srcdir + os.sep
        self._real_folders: dict[str, str] = {}
        self._docnames: dict[str, str] = {}  # page -> its document name
        self._all_labels: dict[str, tuple[str, str, bool]] | None = None

    # -- documents ---------------------------------------------------------
    def path2doc(self, path: str) -> str | None:
        """Document name of a source file (as Sphinx's Project.path2doc):
        relative to the source folder, suffix removed; None if the suffix is
        not a source suffix."""
        # outside the source folder, Sphinx keeps the absolute path (no such document)
        rel = path[len(self._prefix):] if path.startswith(self._prefix) else path
        for suffix in self.conf.source_suffixes:
            if rel.endswith(suffix):
                return rel[: -len(suffix)].replace(os.sep, "/")
        return None

    def doc_path(self, docname: str) -> str | None:
        """The source file of a document of the build, or None."""
        if docname.startswith("/") or docname.startswith("../"):
            return None
        for suffix in self.conf.source_suffixes:
            rel = docname + suffix
            full = os.path.join(self.srcdir, rel)
            if os.path.isfile(full) and self.is_doc(rel):
                return full
        return None

    def is_doc(self, rel: str) -> bool:
        """Is the source file at ``rel`` (posix, relative to the source
        folder) part of the build (include_patterns, exclude_patterns)?"""
        return self._include(rel) and not self._exclude(rel)

    def has_doc(self, docname: str) -> bool:
        if docname not in self._docs:
            self._docs[docname] = self.doc_path(docname) is not None
        return self._docs[docname]

    def all_labels(self) -> dict[str, tuple[str, str, bool]]:
        """Every label of the project: name -> (docname, id, titled). Reads
        every document, once, when a link needs a project-wide lookup."""
        if self._all_labels is None:
            self._all_labels = {}
            for path in self._walk_docs():
                model = self._model_of(path)
                if isinstance(model, PageModel):
                    docname = self.path2doc(path)
                    for name, (label_id, titled) in model.labels.items():
                        self._all_labels.setdefault(name, (docname, label_id, titled))
        return self._all_labels

    def _walk_docs(self):
        includes = list(self.conf.include_patterns)
        for folder, dirs, files in os.walk(self.srcdir, followlinks=True):
            rel_folder = os.path.relpath(folder, self.srcdir).replace(os.sep, "/")
            rel_folder = "" if rel_folder == "." else rel_folder + "/"
            dirs[:] = sorted(d for d in dirs if _may_match(rel_folder + d + "/", includes)
                             and not self._exclude(rel_folder + d))
            for name in sorted(files):
                rel = rel_folder + name
                if name.endswith(self.conf.source_suffixes) and self.is_doc(rel):
                    yield os.path.join(folder, name)

    # -- links ---------------------------------------------------------------
    def check(self, page: str, kind: str, dest: str, has_text: bool = True):
        """Resolve one link of ``page`` (a source path) as the build does.

        Returns None when the built link works, else ``(severity, reason)``:
        an error when the built page has a dead link there, a warning when
        the build warns although the link works."""
        if kind in ("html-link", "html-image"):
            return self._check_raw_html(page, kind, dest)
        if kind in ("image", "directive"):
            return self._check_file(page, dest, kind)
        if self.conf.all_links_external:
            return None
        href = myst_href(dest)
        if href.startswith("#"):
            return self._check_anchor(page, href[1:], has_text)
        m = _SCHEME.match(href)
        scheme = m.group(1) if m else None
        if scheme in self.conf.url_schemes or scheme == "inv" or kind == "autolink":
            return None
        if scheme == "path":
            return self._check_file(page, href[5:], "download")
        if scheme == "project":
            href = href[8:]
            if href.startswith("#"):
                return self._check_anchor(page, href[1:], has_text)
        return self._check_path(page, href, has_text, scheme)

    def _docname(self, page: str) -> str:
        name = self._docnames.get(page)
        if name is None:
            real = os.path.realpath(page)
            name = self.path2doc(real) or os.path.splitext(os.path.relpath(real, self.srcdir))[0]
            self._docnames[page] = name
        return name

    def _model(self, path: str) -> PageModel | str:
        return self._model_of(path)

    def _check_anchor(self, page: str, target: str, has_text: bool):
        if not target:
            return WARNING, ("the build warns (myst.xref_missing) on an empty fragment; the "
                             "link goes to the top of the page")
        model = self._model(page)
        if not isinstance(model, PageModel):
            return ERROR, f"cannot check the anchor: {model}"
        if target in model.labels or target in model.slugs:
            return None
        if self._project_wide(page, target, has_text):
            return None
        if target in model.names or target in model.ids:
            return None
        return ERROR, f'no anchor "{target}" on this page{_hint(target, model)}'

    def _project_wide(self, page: str, target: str, has_text: bool) -> bool:
        """MyST's last resort for "#target" and unknown paths: a label of
        any page (lower case), or a document name."""
        label = self.all_labels().get(target.lower())
        if label and (has_text or label[2]):
            return True
        return self.has_doc(_docname_join(self._docname(page), target))

    def _resolve(self, page: str, path: str) -> str:
        """An absolute path, as Sphinx's env.relfn2path makes it."""
        key = (os.path.dirname(page), path)
        found = self._resolved.get(key)
        if found is None:
            if path.startswith("/"):
                parts = [p for p in path.split("/") if p not in ("", ".")]
                full = os.path.join(self.srcdir, *parts)
            else:
                full = os.path.join(key[0], path)
            # realpath of the folder (few, cached), then of the file only if it is a link
            head, tail = os.path.split(full)
            folder = self._real_folders.get(head)
            if folder is None:
                folder = self._real_folders[head] = os.path.realpath(head)
            found = os.path.join(folder, tail) if tail not in ("", ".", "..") else os.path.realpath(full)
            if os.path.islink(found):
                found = os.path.realpath(found)
            self._resolved[key] = found
        return found

    def _check_path(self, page: str, href: str, has_text: bool, scheme: str | None):
        path, hash_, fragment = href.partition("#")
        full = self._resolve(page, path)
        if os.path.isfile(full):
            docname = self.path2doc(full)
            if docname is None:
                return None  # any other file: a download
            if not self.has_doc(docname):
                return ERROR, (f"{_show(full)} is not part of the build (not a document of "
                               "the Sphinx project): the link is dropped")
            if not fragment:
                return None
            return self._check_fragment(full, fragment)
        if scheme == "project":
            return ERROR, f"no such document: {_show(full)}"
        if self._project_wide(page, href, has_text):
            return None
        return ERROR, self._why_dead(page, path, full, hash_ and fragment, scheme)

    def _check_fragment(self, target: str, fragment: str):
        model = self._model(target)
        if not isinstance(model, PageModel):
            return ERROR, f"cannot check the anchor: {_show(target)}: {model}"
        if not model.local_ids:
            return None
        if fragment in model.slugs or fragment in model.slugs.values():
            return None
        if fragment in model.labels or any(v[0] == fragment for v in model.labels.values()):
            return None
        where = _show(target)
        if fragment in model.html_ids:
            return WARNING, (f'the build warns (myst.xref_missing): "{fragment}" in {where} is '
                             "an id but not a slug or label; the link works")
        return ERROR, f'no anchor "{fragment}" in {where}{_hint(fragment, model)}'

    def _why_dead(self, page, path, full, fragment, scheme) -> str:
        if scheme:
            return (f'"{scheme}:" is not a URL scheme of myst_url_schemes: the build renders '
                    "a dead link")
        stem, ext = os.path.splitext(full)
        if os.path.isdir(full):
            index = next((self.path2doc(os.path.join(full, "index" + s))
                          for s in self.conf.source_suffixes
                          if os.path.isfile(os.path.join(full, "index" + s))), None)
            hint = f"; link to {_show(os.path.join(full, 'index.md'))}" if index else ""
            return f"a folder, not a page: the build renders a dead link{hint}"
        if ext.lower() in (".html", ".htm") and self.path2doc_source(stem):
            return (f"links to built pages do not resolve: link to the source "
                    f"{_show(self.path2doc_source(stem))}")
        source = self.path2doc_source(full)
        if source and fragment:
            return (f"a page without its suffix resolves, but not with a fragment: link to "
                    f"{_show(source)}#{fragment}")
        return f"no such file: {_show(full)}"

    def path2doc_source(self, stem: str) -> str | None:
        return next((stem + s for s in self.conf.source_suffixes if os.path.isfile(stem + s)), None)

    def _check_file(self, page: str, dest: str, kind: str):
        if _SCHEME.match(dest) or dest.startswith("//"):
            return None
        path = myst_href(dest).partition("#")[0].partition("?")[0]
        if not path:
            return ERROR, "empty path"
        full = self._resolve(page, path)
        if os.path.isfile(full):
            return None
        what = {"image": "image", "download": "file", "directive": "file"}[kind]
        return ERROR, f"no such {what}: {_show(full)}"

    # -- raw HTML ---------------------------------------------------------------
    def _built(self, docname: str) -> str:
        return docname + self.conf.html_suffix

    def _check_raw_html(self, page: str, kind: str, url: str):
        parts = urlsplit(url.strip())
        if parts.scheme or parts.netloc:
            return None
        here = self._built(self._docname(page))
        path = unquote(parts.path)
        fragment = unquote(parts.fragment)
        if not path:
            target_doc = self._docname(page)
        else:
            built = posixpath.normpath(posixpath.join(posixpath.dirname(here), path))
            if path.startswith("/"):
                built = posixpath.normpath(path.lstrip("/"))
            target_doc = self._built_doc(built)
            if target_doc is None:
                if self._built_file(built):
                    return None
                return ERROR, self._raw_hint(page, kind, path)
        if not fragment or kind == "html-image":
            return None
        source = self.doc_path(target_doc)
        if source is None:  # the page itself, when it is not a document of the build
            source = page
        model = self._model(source)
        if not isinstance(model, PageModel) or not model.local_ids:
            return None
        if fragment in model.html_ids:
            return None
        where = "this page" if source == page else _show(source)
        slug_hint = ""
        if fragment in model.slugs and model.slugs[fragment] not in (fragment, ""):
            slug_hint = f'; in raw HTML use the id "{model.slugs[fragment]}", or a Markdown link'
        return ERROR, f'raw HTML link: no id "{fragment}" in the built {where}{slug_hint}'

    def _built_doc(self, built: str) -> str | None:
        """The document whose built page is at ``built`` (a path in the site)."""
        if built in (".", ""):
            return self._index_doc("")
        if built.endswith(self.conf.html_suffix):
            docname = built[: -len(self.conf.html_suffix)]
            return docname if self.has_doc(docname) else None
        return self._index_doc(built + "/")  # a folder serves its index.html

    def _index_doc(self, folder: str) -> str | None:
        docname = folder + "index"
        return docname if self.has_doc(docname) else None

    def _built_file(self, built: str) -> bool:
        """Does the site hold this file (copied by html_extra_path, or under
        _static/ by html_static_path)?"""
        for root in self.conf.extra_paths:
            if os.path.isfile(os.path.join(root, built)):
                return True
        if built.startswith("_static/"):
            rest = built[len("_static/"):]
            return any(os.path.isfile(os.path.join(r, rest)) for r in self.conf.static_paths)
        return False

    def _raw_hint(self, page: str, kind: str, path: str) -> str:
        if kind == "html-image":
            return (f"raw HTML image {path}: the build does not copy it into the site; "
                    "use ![alt](path) or the {image} directive")
        full = self._resolve(page, path.partition("#")[0])
        if os.path.isfile(full) and self.path2doc(full):
            return (f"raw HTML link to the source {path}: the built site has no such file "
                    f"(link to {os.path.splitext(path)[0]}{self.conf.html_suffix}, or use a "
                    "Markdown link)")
        return f"raw HTML link: the built site has no {path}"


def _docname_join(base: str, docname: str) -> str:
    return posixpath.normpath(posixpath.join(f"/{base}", "..", docname))[1:]


def _may_match(prefix: str, patterns: list[str]) -> bool:
    """Can a file below the folder ``prefix`` ("a/b/") match one of the
    include patterns? (Used only to skip folders while walking.)"""
    for pattern in patterns:
        literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        if literal.startswith(prefix) or prefix.startswith(literal):
            return True
    return False


def _show(path: str) -> str:
    from .checker import display

    return display(path)


def _hint(target: str, model: PageModel) -> str:
    import difflib

    candidates = [s for s in model.slugs] + [n for n in model.labels]
    hint = difflib.get_close_matches(target, candidates, n=1, cutoff=0.6)
    return f'; did you mean "#{hint[0]}"?' if hint else ""
