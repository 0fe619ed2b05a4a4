"""Resolve every link of a set of Markdown pages: files across the tree and
fragments against each page's anchors."""

from __future__ import annotations

import difflib
import functools
import multiprocessing
import os
import re
import stat
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from itertools import repeat
from urllib.parse import unquote

from myst_parser.slugs import docutils_slugify

from .files import ReadError, UsageError, Walked, discover, read_text
from .html_scan import iter_tags, tag_anchors
from .markdown_scan import PageScan, quiet_markdown_it, scan_markdown
from .mdit_scan import scan_markdown_mdit
from .rst_scan import rst_anchors
from .slugs import github_slugs, myst_slugs
from .sphinx_conf import find_conf, read_conf

FILE_TARGET = "<file>"  # the target column of a problem with the file itself
SLUG_STYLES = ("both", "myst", "github")
RULE_SETS = ("github", "sphinx")
ERROR, WARNING = "error", "warning"
MARKDOWN_SUFFIXES = (".md", ".markdown")
# Sphinx source suffixes tried for "page.html" and "page" links, in order.
SOURCE_SUFFIXES = (".md", ".rst", ".ipynb")
INDEX_FILES = ("index.md", "README.md", "index.rst", "README.rst")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_PARALLEL_MIN_FILES = 64

# Checks that can be switched on or off (--enable/--disable, or the
# pyproject.toml table): name -> (on by default, what it reports).
SWITCHES: dict[str, tuple[bool, str]] = {
    "empty-target": (True, "an empty link target, [text]()"),
    "html-link": (False, "github rules: a link to page.html or to page (no suffix) where "
                  "page.md exists; accepted by default, as pages converted from Sphinx "
                  "projects have them"),
    "trailing-slash": (True, "github rules: a slash after a file name (./page.md/), "
                       "a 404 on GitHub"),
}


@dataclass(frozen=True, order=True, slots=True)
class Problem:
    file: str
    line: int
    column: int = 1
    severity: str = ERROR  # "error": the link is broken; "warning": see the reason
    target: str = ""
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: {self.severity}: "
        if self.target == FILE_TARGET:
            return where + self.reason
        return f"{where}{self.target}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Options:
    rules: str = "github"  # how links resolve: as on GitHub, or as the Sphinx build
    slugs: str = "both"  # github rules: which heading slugs count as anchors
    myst_heading_anchors: int | None = None  # None: conf.py's (sphinx rules) or 3
    root: str | None = None  # what "/path" links are relative to (None: see default_root)
    conf: str | None = None  # sphinx rules: the conf.py (None: the nearest one)
    exclude: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()  # regular expressions: links whose target matches are skipped
    enable: frozenset[str] = frozenset()  # switches (see SWITCHES) turned on
    disable: frozenset[str] = frozenset()  # ... and off
    jobs: int = 0  # worker processes for scanning; 0: one per CPU
    exact: bool = False  # block structure from markdown-it-py (slower; see mdit_scan)

    def switched_on(self, name: str) -> bool:
        if name in self.disable:
            return False
        return name in self.enable or SWITCHES[name][0]


@dataclass(slots=True)
class ExternalLink:
    file: str
    line: int
    url: str


@dataclass(slots=True)
class Result:
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    links: int = 0
    ignored: int = 0  # links skipped by an ignore pattern
    external: list[ExternalLink] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth telling the user

    @property
    def errors(self) -> int:
        return sum(p.severity == ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == WARNING for p in self.problems)


def display(path: str) -> str:
    """``path`` relative to the working directory, unless the two share no
    folder but the file system's root (then absolute, e.g. /tmp/x.md)."""
    cwd = os.getcwd()
    if path.startswith(cwd + os.sep):
        return path[len(cwd) + 1 :]
    full = os.path.abspath(path)
    try:
        if os.path.commonpath([cwd, full]) == os.path.splitdrive(full)[0] + os.sep:
            return full  # nothing in common but the root
        return os.path.relpath(full)
    except ValueError:  # another drive
        return full


def repository_root(start: str) -> str | None:
    """The nearest folder at or above ``start`` holding ``.git``."""
    folder = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


@functools.lru_cache(maxsize=1024)
def default_root(folder: str) -> str | None:
    """Where "/path" links start for a page in ``folder`` when --root is not
    given: the nearest folder holding a Sphinx conf.py (up to the repository
    root), else the repository root; never the working directory."""
    repo = repository_root(folder)
    conf = find_conf(folder, stop=repo)
    return os.path.dirname(conf) if conf else repo


def _scan_file(path: str, options: Options) -> tuple:
    """Worker: scan one file; never raises. Returns
    ``("page", links, labels, targets)`` or ``("error", reason, line)``. The
    links are packed into one string (see :func:`_pack_links`). The targets (the
    page's anchors, packed into one string, for the github rules; a PageModel
    for the sphinx rules) are computed here, in a worker process when there are
    several, so that they are computed in parallel. Unpickling tuples and sets
    of 10,000 pages took the main process 0.17 s; strings it takes almost none,
    and the resolution workers unpack only what they look at.
    """
    try:
        text = read_text(path)
        page = scan_markdown_mdit(text) if options.exact else scan_markdown(text)
        links = _pack_links(page.links)
        if options.rules == "sphinx":
            from .sphinx_rules import page_model

            targets = page_model(page, options.myst_heading_anchors or 0)
        else:
            targets = _SEP.join(page_anchors(page, options))  # a plain str pickles fastest
        return ("page", links, list(page.labels), targets)
    except ReadError as exc:
        return ("error", exc.reason, exc.line)
    except RecursionError:
        return ("error", "too deeply nested to check", 1)
    except Exception as exc:  # a bug in the checker must not stop the run
        return ("error", f"internal error while scanning ({type(exc).__name__}: {exc}); "
                "please report it", 1)


# Separates the fields of packed links and anchors: no text from a page holds it (files.decode refuses
# NUL bytes, and the scanners replace NUL characters).
_SEP = "\0"


def _pack_links(links) -> str:
    return _SEP.join(f"{link.line}{_SEP}{link.kind}{_SEP}{link.target}" for link in links)


def _unpack_links(packed: str):
    """(line, kind, target) of each link packed by :func:`_pack_links`."""
    if not packed:
        return
    fields = packed.split(_SEP)
    for i in range(0, len(fields), 3):
        yield int(fields[i]), fields[i + 1], fields[i + 2]


class _PackedAnchors(str):
    """A page's anchors as one string; :meth:`Checker._page_targets` unpacks them when a link needs them.
    (A subclass, so that a plain ``str`` in the targets still means why they cannot be known.)"""

    __slots__ = ()

    def unpack(self) -> set[str]:
        return set(self.split(_SEP)) if self else set()


class Checker:
    """Check the links of Markdown pages: ``check_paths(paths)``.

    Raises :class:`~paddle_style_guide.files.UsageError` for options that
    cannot work (an unknown rule set, no conf.py for the sphinx rules, an
    invalid ignore pattern)."""

    def __init__(self, options: Options = Options()):
        if options.slugs not in SLUG_STYLES:
            raise ValueError(f"slugs must be one of {SLUG_STYLES}")
        if options.rules not in RULE_SETS:
            raise UsageError(f"--rules must be one of {', '.join(RULE_SETS)}, not {options.rules!r}")
        unknown = sorted((options.enable | options.disable) - set(SWITCHES))
        if unknown:
            raise UsageError(f"unknown rule {unknown[0]!r}; the rules are: {', '.join(SWITCHES)}")
        try:
            self._ignore = [re.compile(p) for p in options.ignore]
        except re.error as exc:
            raise UsageError(f"ignore pattern {exc.pattern!r}: {exc}") from None
        self.options = options
        # the switches, looked up once (they are consulted for every link)
        self._empty_target = options.switched_on("empty-target")
        self._html_link = options.switched_on("html-link")
        self._trailing_slash = options.switched_on("trailing-slash")
        self.root = os.path.abspath(options.root) if options.root else None
        self.project = None  # SphinxProject, for the sphinx rules
        self.notes: list[str] = []
        self._scans: dict[str, tuple] = {}  # path -> ("page", links, labels) or error
        self._targets: dict[str, object] = {}  # path -> anchors / PageModel, or why not
        self._stat: dict[str, int | None] = {}
        self._resolved: dict[tuple[str, str], str | None] = {}
        self._labels: set[str] = set()
        self._lines: dict[str, list[str]] = {}

    # -- public -----------------------------------------------------------
    def check_paths(self, paths: Sequence[str]) -> Result:
        """Check the Markdown files named by ``paths`` (files or directories).

        Raises :class:`~paddle_style_guide.files.UsageError` for a PATH that
        does not exist.
        """
        walked = discover(paths, self.options.exclude)
        if self.options.rules == "sphinx":
            self._setup_sphinx(paths[0] if paths else ".")
        return self.check_files(walked)

    def _setup_sphinx(self, first_path: str) -> None:
        from .sphinx_rules import SphinxProject

        conf_path = self.options.conf
        if conf_path is None:
            start = os.path.abspath(first_path)
            conf_path = find_conf(start, stop=repository_root(start))
            if conf_path is None:
                raise UsageError(f"--rules sphinx: no conf.py in or above {first_path} (up to "
                                 "the repository root); name it with --conf")
        elif not os.path.isfile(conf_path):
            raise UsageError(f"--conf: no such file: {conf_path}")
        conf = read_conf(conf_path)
        self.notes.extend(conf.notes)
        if self.options.myst_heading_anchors is None:
            self.options = replace(self.options, myst_heading_anchors=conf.heading_anchors)
        self.project = SphinxProject(conf, self._page_targets)

    def check_files(self, walked: Walked) -> Result:
        if self.options.rules == "github" and self.options.myst_heading_anchors is None:
            self.options = replace(self.options, myst_heading_anchors=3)
        result = Result(notes=self.notes)
        for path, reason in walked.problems:
            result.problems.append(Problem(display(path), 1, 1, ERROR, FILE_TARGET, reason))
        files = walked.files
        for path, scan in zip(files, self._scan_many(files)):
            self._scans[path] = scan
        for path in files:
            scan = self._scans[path]
            if scan[0] == "page":
                self._labels.update(_label_name(label) for label in scan[2])
                # read as a regular file, in a folder: no need to stat either again
                self._stat[path] = stat.S_IFREG
                self._stat.setdefault(os.path.dirname(path), stat.S_IFDIR)
        for part in self._resolve_many(files):
            result.files += part.files
            result.links += part.links
            result.ignored += part.ignored
            result.problems.extend(part.problems)
            result.external.extend(part.external)
        result.problems.sort()
        return result

    def _resolve_files(self, files: list[str]) -> Result:
        """The links of ``files`` (already scanned) resolved: problems, counts, external links."""
        result = Result()
        for path in files:
            scan = self._scans[path]
            result.files += 1
            if scan[0] != "page":
                result.problems.append(Problem(display(path), scan[2], 1, ERROR, FILE_TARGET,
                                               scan[1]))
                continue
            shown = display(path)
            base = os.path.dirname(path)
            for line, kind, target in _unpack_links(scan[1]):
                result.links += 1
                if self._ignore and any(p.search(target) for p in self._ignore):
                    result.ignored += 1
                    continue
                found = self._check_link(path, base, kind, target, result, shown, line)
                if found:
                    severity, reason = found if isinstance(found, tuple) else (ERROR, found)
                    column = self._column(path, line, target)
                    result.problems.append(Problem(shown, line, column, severity, target, reason))
        return result

    def _resolve_many(self, files: list[str]) -> list[Result]:
        """Resolve the links of ``files`` in order; with many files and fork available, in forked
        worker processes that inherit every scan (resolution only reads them)."""
        global _FORKED
        jobs = self._workers(files)
        if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return [self._resolve_files(files)]
        size = -(-len(files) // (jobs * 4))
        chunks = [files[i:i + size] for i in range(0, len(files), size)]
        _FORKED = self
        try:
            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as ex:
                return list(ex.map(_resolve_in_fork, chunks))
        finally:
            _FORKED = None

    def _column(self, path: str, line: int, target: str) -> int:
        """Column (1-based) of ``target`` on its line, else of the line's text."""
        if path not in self._lines:
            try:
                self._lines[path] = read_text(path).replace("\r\n", "\n").split("\n")
            except ReadError:
                self._lines[path] = []
        lines = self._lines[path]
        if not 0 < line <= len(lines):
            return 1
        text = lines[line - 1]
        at = text.find(target) if target else -1
        if at < 0:
            at = len(text) - len(text.lstrip())
        return at + 1

    # -- scanning ---------------------------------------------------------
    def _scan_many(self, files: list[str]) -> list:
        """Scan ``files`` (in worker processes when there are many); the
        anchors of each page go to ``self._targets``."""
        jobs = self._workers(files)
        if jobs <= 1:
            items = [_scan_file(f, self.options) for f in files]
        else:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
            chunk = max(8, len(files) // (jobs * 32))  # small chunks: the workers finish together
            with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=quiet_markdown_it) as ex:
                items = list(ex.map(_scan_file, files, repeat(self.options), chunksize=chunk))
        return [self._keep(path, item) for path, item in zip(files, items)]

    def _workers(self, files: list[str]) -> int:
        """How many worker processes scan or resolve ``files`` (1: this process alone)."""
        if len(files) < _PARALLEL_MIN_FILES:
            return 1
        return self.options.jobs or os.cpu_count() or 1

    def _keep(self, path: str, item: tuple) -> tuple:
        if item[0] == "page":
            targets = item[3]
            self._targets[path] = _PackedAnchors(targets) if type(targets) is str else targets
            return item[:3]
        self._targets[path] = item[1]  # why its anchors cannot be known
        return item

    def _page_targets(self, path: str):
        """Anchors (github rules) or PageModel (sphinx rules) of the page at
        ``path``, or why they cannot be known."""
        cached = self._targets.get(path)
        if type(cached) is _PackedAnchors:
            cached = self._targets[path] = cached.unpack()
        if cached is not None:
            return cached
        lower = path.lower()
        if lower.endswith(MARKDOWN_SUFFIXES) or path in self._scans:
            self._scans[path] = self._keep(path, _scan_file(path, self.options))
            return self._page_targets(path)
        try:
            text = read_text(path)
        except ReadError as exc:
            targets: object = exc.reason
        else:
            if self.options.rules == "sphinx":
                from .sphinx_rules import PageModel, rst_page_model

                if lower.endswith(".rst"):
                    targets = rst_page_model(text)
                elif lower.endswith((".html", ".htm")):
                    targets = PageModel(html_ids={a for t in iter_tags(text) for a in tag_anchors(t)})
                else:
                    targets = PageModel(local_ids=False)
            elif lower.endswith(".rst"):
                targets = rst_anchors(text)
            else:
                targets = {a for tag in iter_tags(text) for a in tag_anchors(tag)}
        self._targets[path] = targets
        return targets

    # -- resolution -------------------------------------------------------
    def _check_link(self, path, base, kind, dest, result, shown, line):
        """Why the link is broken (a reason, or (severity, reason)), or None."""
        dest = dest.strip()
        if not dest:
            return "empty link target" if self._empty_target else None
        if dest.startswith("//"):
            result.external.append(ExternalLink(shown, line, "https:" + dest))
            return None
        m = _SCHEME.match(dest)
        if m and m.group(1).lower() in ("http", "https"):
            result.external.append(ExternalLink(shown, line, dest))
            return None
        if self.project is not None:
            return self.project.check(path, kind, dest)
        return self._check_github(path, base, kind, dest, m)

    def _check_github(self, path, base, kind, dest, m) -> str | None:
        if m:
            scheme = m.group(1).lower()
            if scheme not in ("project", "path"):
                return None  # mailto:, inv:, data:, ... are not checked
            dest = dest[m.end():]
            if not dest:
                return "empty link target" if self._empty_target else None
        page_part, hash_, fragment = dest.partition("#")
        page_part = page_part.partition("?")[0]
        if not page_part:
            if not fragment:
                return None  # "#": top of the page
            return self._check_fragment(path, fragment, same_page=True)
        wanted = unquote(page_part)
        if wanted.startswith("/"):
            root = self.root or default_root(base)
            if root is None:
                return ("a link from the site's root, but there is no conf.py or repository "
                        "root above the page; name the root with --root")
        target = self._resolve(base, wanted)
        if target is None:
            return f"no such file: {display(self._join(base, wanted))}"
        if self._trailing_slash and wanted.endswith("/") and \
                not self._is_dir(self._join(base, wanted)):
            return f"{display(target)} is a file, not a folder: a 404 on GitHub"
        if self._html_link and not self._is_file(self._join(base, wanted)) \
                and not self._is_dir(self._join(base, wanted)):
            return f"a Sphinx-style link: link to the source file {display(target)}"
        if not hash_ or not fragment or kind in ("image", "html-image", "directive"):
            return None
        if self._is_dir(target):
            return None
        return self._check_fragment(target, fragment, same_page=(target == path))

    def _check_fragment(self, page: str, fragment: str, same_page: bool) -> str | None:
        lower = page.lower()
        if not (lower.endswith(MARKDOWN_SUFFIXES + (".rst", ".html", ".htm"))
                or page in self._scans):
            return None  # a notebook, an image, source code: no anchors to check
        targets = self._page_targets(page)
        if isinstance(targets, str):
            return f"cannot check the anchor: {display(page)}: {targets}"
        decoded = unquote(fragment)
        if decoded in targets or fragment in targets:
            return None
        if same_page and _label_name(decoded) in self._labels:
            return None  # MyST resolves "#label" against labels on every page
        where = "on this page" if same_page else f"in {display(page)}"
        hint = difflib.get_close_matches(decoded, targets, n=1, cutoff=0.6)
        suffix = f'; did you mean "#{hint[0]}"?' if hint else ""
        return f'no anchor "{decoded}" {where}{suffix}'

    def _join(self, base: str, path: str) -> str:
        if path.startswith("/"):
            root = self.root or default_root(base) or base
            return os.path.normpath(os.path.join(root, path.lstrip("/")))
        return os.path.normpath(os.path.join(base, path))

    def _resolve(self, base: str, path: str) -> str | None:
        key = (base, path)
        if key in self._resolved:
            return self._resolved[key]
        full = self._join(base, path)
        found = None
        if self._is_file(full):
            found = full
        elif self._is_dir(full):
            found = next(
                (os.path.join(full, i) for i in INDEX_FILES if self._is_file(os.path.join(full, i))),
                full,
            )
        else:
            stem, ext = os.path.splitext(full)
            stems = [stem, full] if ext.lower() in (".html", ".htm") else [full]
            for s in stems:
                found = next((s + x for x in SOURCE_SUFFIXES if self._is_file(s + x)), None)
                if found:
                    break
        self._resolved[key] = found
        return found

    def _mode(self, path: str) -> int | None:
        if path not in self._stat:
            try:
                self._stat[path] = os.stat(path).st_mode
            except (OSError, ValueError):
                self._stat[path] = None
        return self._stat[path]

    def _is_file(self, path: str) -> bool:
        mode = self._mode(path)
        return mode is not None and not stat.S_ISDIR(mode)

    def _is_dir(self, path: str) -> bool:
        mode = self._mode(path)
        return mode is not None and stat.S_ISDIR(mode)


_FORKED: Checker | None = None  # the checker whose scans forked resolution workers inherit


def _resolve_in_fork(files: list[str]) -> Result:
    return _FORKED._resolve_files(files)


def page_anchors(scan: PageScan, options: Options) -> set[str]:
    """Every fragment that names a place on a scanned Markdown page."""
    style = options.slugs
    targets = set(scan.anchors)
    if style in ("both", "myst"):
        depth = options.myst_heading_anchors
        targets.update(myst_slugs(h.title for h in scan.headings if h.level <= depth))
    if style in ("both", "github"):
        targets.update(github_slugs(h.title for h in scan.headings if not h.in_directive))
    for label in scan.labels:
        name = _label_name(label)
        targets.update((label, name, docutils_slugify(name)))
    targets.discard("")
    return targets


def _label_name(label: str) -> str:
    return " ".join(label.lower().split())


def check_paths(paths: Iterable[str], options: Options = Options()) -> Result:
    """Check Markdown files and directories; see :class:`Checker`."""
    return Checker(options).check_paths(list(paths))
