"""``check --rules sphinx`` reports exactly what the built site gets wrong.

The fixture project ``fixtures/sphinx_site`` holds the link cases that made
the checker and the rendered site disagree (issue 18): docutils section ids
(``#commit`` for "提交（commit）"), auto ids (``#id1``), lower-cased heading
text, depth-4 headings, ``.html`` and extensionless links, folders,
``dir/#frag``, ``%2B``, a trailing slash after a file, raw HTML links and
images, labels, footnotes, an excluded page, a reStructuredText page.

Each link is a paragraph of its own whose text names it (``L17``), so the
built HTML can be read back link by link. The test builds the project with
Sphinx, finds every dead link of every page (its target file or id missing
from the site, or the link dropped), and compares, page by page:

* the checker's errors with the dead links,
* the checker's warnings with the links the build warns about that work.
"""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import FIXTURES, sphinx_build

from paddle_style_guide import Options, check_paths
from paddle_style_guide.checker import ERROR, WARNING

LABEL = re.compile(r"^([A-Z]\d\d) ", re.M)
WARNING_LINE = re.compile(r"^(.+?):(\d+): WARNING: (.*)$")


class _BuiltPage(HTMLParser):
    """Ids, and (text, url) of every link and image, of one built page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []
        self._open: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and "href" in attrs:
            self._open.append([attrs["href"], ""])
        if tag == "img" and "src" in attrs:
            self.links.append((attrs.get("alt", ""), attrs["src"]))

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((text.strip(), href))

    def handle_data(self, data):
        for link in self._open:
            link[1] += data


def built_dead_links(outdir: Path, source: Path) -> dict[str, str]:
    """Dead links of the built page of ``source``, by label: the link is
    missing from the page (dropped by the build), or its target file or id
    is not in the site."""
    pages: dict[Path, _BuiltPage] = {}

    def page(path: Path) -> _BuiltPage:
        if path not in pages:
            pages[path] = _BuiltPage()
            pages[path].feed(path.read_text("utf-8"))
        return pages[path]

    built = outdir / source.with_suffix(".html")
    links = {text: url for text, url in page(built).links if re.fullmatch(r"[A-Z]\d\d", text)}
    dead = {}
    for label in LABEL.findall((outdir.parent.parent / source).read_text("utf-8")):
        if label not in links:
            dead[label] = "dropped"
            continue
        parts = urlsplit(links[label])
        if parts.scheme or parts.netloc:
            continue
        target = built
        if parts.path:
            target = Path(os.path.normpath(built.parent / unquote(parts.path)))
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            dead[label] = f"no file {links[label]}"
        elif parts.fragment and unquote(parts.fragment) not in page(target).ids:
            dead[label] = f"no id {links[label]}"
    return dead


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The fixture project, built with Sphinx: (source folder, HTML folder,
    warnings by (page, line))."""
    src = tmp_path_factory.mktemp("sphinx_rules") / "site"
    shutil.copytree(FIXTURES / "sphinx_site", src)
    out, lines = sphinx_build(src)
    warnings: dict[tuple[str, int], list[str]] = {}
    for line in lines:
        m = WARNING_LINE.match(line)
        if m:
            page = os.path.relpath(m.group(1), src)
            warnings.setdefault((page, int(m.group(2))), []).append(m.group(3))
    return src, out, warnings


@pytest.fixture(scope="module")
def reports(site):
    src, _, _ = site
    result = check_paths([str(src)], Options(rules="sphinx", jobs=1))
    assert result.files == 12  # .hidden/ is not searched (links into it are checked)
    by_page: dict[str, list] = {}
    for p in result.problems:
        by_page.setdefault(os.path.relpath(p.file, src) if os.path.isabs(p.file)
                           else os.path.relpath(os.path.abspath(p.file), src), []).append(p)
    return by_page


PAGES = ["links.md", "guide/faq.md", "guide/install/linux.md"]


def _labels(src: Path, page: str, problems, severity: str) -> dict[str, str]:
    lines = (src / page).read_text("utf-8").splitlines()
    found = {}
    for p in problems:
        if p.severity != severity or p.reason == "empty link target":
            continue
        m = LABEL.match(lines[p.line - 1] + " ")
        assert m, f"{page}:{p.line}: a problem on a line without a link label: {p}"
        found[m.group(1)] = p.reason
    return found


@pytest.mark.parametrize("page", PAGES)
def test_errors_are_exactly_the_dead_links_of_the_built_page(site, reports, page):
    src, out, _ = site
    dead = built_dead_links(out, Path(page))
    errors = _labels(src, page, reports.get(page, []), ERROR)
    assert sorted(errors) == sorted(dead), (
        f"reported but alive: {sorted(set(errors) - set(dead))}; "
        f"dead but not reported: {sorted(set(dead) - set(errors))}")


@pytest.mark.parametrize("page", PAGES)
def test_warnings_are_the_working_links_the_build_warns_about(site, reports, page):
    src, out, warnings = site
    dead = built_dead_links(out, Path(page))
    lines = (src / page).read_text("utf-8").splitlines()
    warned = set()
    for (where, line), messages in warnings.items():
        if where == page:
            m = LABEL.match(lines[line - 1] + " ")
            assert m, (line, messages)
            warned.add(m.group(1))
    ours = _labels(src, page, reports.get(page, []), WARNING)
    assert sorted(ours) == sorted(warned - set(dead))
    # and every link the build warns about is reported, as an error or a warning
    errors = _labels(src, page, reports.get(page, []), ERROR)
    assert warned <= set(ours) | set(errors)


def test_the_cases_of_issue_18(site, reports):
    """What the checker used to get wrong, each checked against the site."""
    src, out, _ = site
    dead = built_dead_links(out, Path("links.md"))
    faq = built_dead_links(out, Path("guide/faq.md"))
    linux = built_dead_links(out, Path("guide/install/linux.md"))
    # docutils section ids, auto ids, lower-cased heading text: they work
    assert not {"L02", "L03", "L04", "L22", "L21"} & set(dead)
    assert not {"C04", "C07", "C08"} & set(faq)
    # .html links to sources, folders, dir/#frag, %2B, page#frag: dead
    assert {"L11", "L13", "L14", "L15", "L17", "L35", "L49", "L71"} <= set(dead)
    assert "C05" in faq and "I05" in linux and "I03" in linux
    # a trailing slash after a file: a 404 on GitHub, but Sphinx resolves it
    assert "L19" not in dead and "I01" not in linux and "C01" not in faq
    # raw HTML to a source file, raw HTML images: dead; to the built page: fine
    assert {"L29", "L32", "L75"} <= set(dead) and "I11" in linux
    assert not {"L30", "L31", "L58", "L74"} & set(dead) and "I07" not in linux
    # an excluded page: the build drops the link
    assert dead["L64"] == "dropped"
    errors = _labels(src, "links.md", reports["links.md"], ERROR)
    assert errors["L64"].endswith("is not part of the build (not a document of the Sphinx "
                                  "project): the link is dropped")
    assert errors["L11"].startswith("links to built pages do not resolve: link to the source ")


def test_github_rules_keep_their_policy(site):
    """The default rules are GitHub's: the same tree gives other answers."""
    src, _, _ = site
    result = check_paths([str(src / "links.md")], Options(jobs=1, root=str(src)))
    found = {LABEL.match((src / "links.md").read_text("utf-8").splitlines()[p.line - 1] + " ")
             .group(1) for p in result.problems if p.reason != "empty link target"}
    assert "L19" in found  # a slash after a file: a 404 on GitHub
    assert "L11" not in found and "L13" not in found  # Sphinx-style links are accepted


def test_the_build_warns_once_per_dead_link(site):
    """The extension warns on the dead links nobody else warns about (raw
    HTML), and never twice about a link MyST already warned about."""
    src, out, warnings = site
    assert all(len(messages) == 1 for messages in warnings.values()), warnings
    ours = {where for where, messages in warnings.items()
            if messages[0].endswith("[paddle_style_guide.dead_link]")}
    assert ours == {("links.md", 65), ("links.md", 71), ("links.md", 157),
                    ("guide/install/linux.md", 21), ("guide/install/linux.md", 23)}
    for page in PAGES:
        lines = (src / page).read_text("utf-8").splitlines()
        dead = built_dead_links(out, Path(page))
        warned = {LABEL.match(lines[line - 1] + " ").group(1)
                  for (where, line) in warnings if where == page}
        assert set(dead) <= warned  # every dead link of the site is a warning of the build


def test_exact_scanner_gives_the_same_reports(site, reports):
    src, _, _ = site
    exact = check_paths([str(src)], Options(rules="sphinx", jobs=1, exact=True))
    fast = [p for problems in reports.values() for p in problems]
    assert sorted(exact.problems) == sorted(fast)
