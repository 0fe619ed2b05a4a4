"""The settings of a Sphinx ``conf.py`` that decide how links resolve, read
without running it.

Sphinx executes ``conf.py``; the checker only reads the module-level
assignments whose values are literals (``myst_heading_anchors = 3``,
``exclude_patterns = [...]``, also ``x += [...]``), so checking a project
never runs its code. A setting computed at run time (``os.environ.get(...)``)
keeps Sphinx's or MyST's default and is named in :attr:`SphinxConf.notes`.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field

from .files import UsageError

# myst-parser's defaults (myst_parser.config.main.MdParserConfig)
DEFAULT_URL_SCHEMES = ("http", "https", "mailto", "ftp")
# Read from conf.py when they are literals; everything else is ignored.
_READ = {
    "extensions", "source_suffix", "include_patterns", "exclude_patterns", "root_doc",
    "master_doc", "html_extra_path", "html_static_path", "html_file_suffix",
    "myst_heading_anchors", "myst_heading_slug_func", "myst_url_schemes",
    "myst_all_links_external", "myst_ref_domains", "myst_enable_extensions",
    "myst_commonmark_only", "myst_gfm_only", "nitpick_ignore", "nitpick_ignore_regex",
}


@dataclass(frozen=True, slots=True)
class SphinxConf:
    path: str  # the conf.py
    srcdir: str  # its folder: where Sphinx reads sources from
    heading_anchors: int = 0
    url_schemes: tuple[str, ...] = DEFAULT_URL_SCHEMES
    all_links_external: bool = False
    source_suffixes: tuple[str, ...] = (".rst", ".md")
    include_patterns: tuple[str, ...] = ("**",)
    exclude_patterns: tuple[str, ...] = ()
    extra_paths: tuple[str, ...] = ()  # html_extra_path: copied to the site's root
    static_paths: tuple[str, ...] = ()  # html_static_path: copied to _static/
    html_suffix: str = ".html"
    notes: tuple[str, ...] = field(default=())  # settings that could not be read


def find_conf(start: str, stop: str | None = None) -> str | None:
    """The ``conf.py`` in ``start`` or the nearest folder above it, not
    looking above ``stop`` (a repository root) when given."""
    folder = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start))
    stop = os.path.abspath(stop) if stop else None
    while True:
        candidate = os.path.join(folder, "conf.py")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if folder == stop or parent == folder:
            return None
        folder = parent


def read_conf(path: str) -> SphinxConf:
    """Read ``path`` (a Sphinx conf.py). Raises UsageError if it cannot be
    read or parsed."""
    try:
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
        tree = ast.parse(source, filename=path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    except SyntaxError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not valid Python: {exc.msg}") from None
    values: dict[str, object] = {}
    computed: set[str] = set()
    for node in tree.body:
        targets, value, augment = _assignment(node)
        for name in targets:
            if name not in _READ:
                continue
            try:
                literal = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                computed.add(name)
                values.pop(name, None)
                continue
            if augment:
                if name in values and isinstance(values[name], (list, tuple)):
                    values[name] = list(values[name]) + list(literal)
                else:
                    computed.add(name)
            else:
                values[name] = literal
                computed.discard(name)
    return _conf(path, values, computed)


def _assignment(node: ast.stmt) -> tuple[list[str], ast.expr | None, bool]:
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)], node.value, False
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        return [node.target.id], node.value, False
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        return [node.target.id], node.value, True
    return [], None, False


def _conf(path: str, values: dict, computed: set[str]) -> SphinxConf:
    notes = [f"conf.py: {name} is computed when Sphinx runs; the checker uses its default"
             for name in sorted(computed)]
    srcdir = os.path.dirname(os.path.abspath(path))
    extensions = [str(e) for e in values.get("extensions", []) or []]

    suffixes = _source_suffixes(values.get("source_suffix"), extensions)
    if values.get("myst_heading_slug_func"):
        notes.append("conf.py sets myst_heading_slug_func; the checker computes MyST's "
                     "default slugs")
    if values.get("myst_commonmark_only") or values.get("myst_gfm_only"):
        notes.append("conf.py sets myst_commonmark_only/myst_gfm_only: MyST then treats "
                     "every link as external")
    schemes = values.get("myst_url_schemes", DEFAULT_URL_SCHEMES)
    if isinstance(schemes, dict):
        schemes = tuple(schemes)
    anchors = values.get("myst_heading_anchors", 0)
    return SphinxConf(
        path=os.path.abspath(path),
        srcdir=srcdir,
        heading_anchors=anchors if isinstance(anchors, int) else 0,
        url_schemes=tuple(str(s) for s in (schemes or ())),
        all_links_external=bool(values.get("myst_all_links_external"))
        or bool(values.get("myst_commonmark_only"))
        or bool(values.get("myst_gfm_only")),
        source_suffixes=suffixes,
        include_patterns=tuple(values.get("include_patterns", ("**",)) or ("**",)),
        exclude_patterns=tuple(values.get("exclude_patterns", ()) or ()),
        extra_paths=tuple(os.path.join(srcdir, p) for p in values.get("html_extra_path", ()) or ()),
        static_paths=tuple(os.path.join(srcdir, p) for p in values.get("html_static_path", ()) or ()),
        html_suffix=str(values.get("html_file_suffix") or ".html"),
        notes=tuple(notes),
    )


def _source_suffixes(value, extensions: list[str]) -> tuple[str, ...]:
    """Source suffixes as Sphinx registers them: conf.py's ``source_suffix``,
    else ``.rst`` plus what the extensions add (MyST: ``.md``; MyST-NB:
    ``.ipynb``)."""
    if isinstance(value, str):
        found = [value]
    elif isinstance(value, (list, tuple, dict)):
        found = list(value)
    else:
        found = [".rst"]
    myst = any(e in ("myst_parser", "myst_nb", "paddle_style_guide.sphinx_ext") for e in extensions)
    if myst and ".md" not in found:
        found.append(".md")
    if "myst_nb" in extensions and ".ipynb" not in found:
        found.append(".ipynb")
    return tuple(found)
