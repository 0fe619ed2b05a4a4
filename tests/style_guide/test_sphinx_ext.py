"""The Sphinx extension, in small throwaway projects built with myst-parser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
from conftest import CONF, ROOT, sphinx_build, sphinx_project, write
from sphinx.errors import ExtensionError

from paddle_style_guide import sphinx_ext

INDEX = "# Index\n\n```{toctree}\nseed\n222\n```\n"


def myst_warnings(lines):
    return [line for line in lines if "WARNING" in line]


def test_seed_page(seed_page, tmp_path):
    """#1 and #2 resolve; ./222.md#2 fails until a 222.md with the anchor exists."""
    src = tmp_path / "proj"
    sphinx_project(src, {"index.md": "# Index\n\n```{toctree}\nseed\n```\n"})
    shutil.copy(seed_page, src / "seed.md")
    _, warnings = sphinx_build(src)
    assert warnings == [
        f"{src}/seed.md:8: WARNING: 'myst' cross-reference target not found: './222.md#2' "
        "[myst.xref_missing]"
    ]

    write(src / "index.md", INDEX)
    write(src / "222.md", '# Page 222\n\n<a name="2"></a>\n\n## 2. Section\n')
    out, warnings = sphinx_build(src)
    assert warnings == []
    html = (out / "seed.html").read_text("utf-8")
    assert 'href="#1"' in html and 'href="#2"' in html and 'href="222.html#2"' in html

    # the anchor only inside a code block of 222.md is no anchor
    write(src / "222.md", '# Page 222\n\n```html\n<a name="2"></a>\n```\n')
    _, warnings = sphinx_build(src)
    assert warnings == [
        f"{src}/seed.md:8: WARNING: local id not found in doc '222': '2' [myst.xref_missing]"
    ]


def test_without_the_extension_every_anchor_link_warns(seed_page, tmp_path):
    """The problem the extension solves, as seen with myst-parser alone."""
    src = tmp_path / "plain"
    sphinx_project(src, {"index.md": "# Index\n\n```{toctree}\nseed\n```\n"},
                   conf=CONF.replace('"paddle_style_guide.sphinx_ext"', '"myst_parser"'))
    shutil.copy(seed_page, src / "seed.md")
    _, warnings = sphinx_build(src)
    assert [w.split(": WARNING: ")[1] for w in warnings] == [
        "'myst' cross-reference target not found: '1' [myst.xref_missing]",
        "'myst' cross-reference target not found: '2' [myst.xref_missing]",
        "'myst' cross-reference target not found: './222.md#2' [myst.xref_missing]",
    ]


PAGES = {
    "index.md": "# Index\n\n```{toctree}\na\nb\n```\n",
    "a.md": """
        # Page A

        - [1. One](#1)
        - [Two by id](#two)
        - [B's first](./b.md#1)
        - [B's span](b.md#span-id)
        - [B's heading slug](./b.md#2-第二节)
        - [A heading slug here](#3-third)
        - [empty text](#1)
        - [](#1)

        <a name="1"></a>

        ## 1. One

        <div id="two">Block with an id.</div>

        ## 3. Third
        """,
    "b.md": """
        # Page B

        <a name="1"></a>

        ## 1. 第一节

        <span id="span-id">inline</span>

        ## 2. 第二节

        <!-- <a name="commented"></a> -->
        """,
}


def test_same_and_cross_page_anchors_resolve(tmp_path):
    src = sphinx_project(tmp_path / "ok", PAGES)
    out, warnings = sphinx_build(src)
    assert warnings == []
    html = (out / "a.html").read_text("utf-8")
    for href in ('href="#1"', 'href="#two"', 'href="b.html#1"', 'href="b.html#span-id"'):
        assert href in html
    # [](#1): the link text is the heading the anchor stands above
    assert '<a class="reference internal" href="#1"><span class="std std-ref">1. One</span></a>' in html


def test_missing_anchors_fail_with_file_line_and_target(tmp_path):
    pages = dict(PAGES)
    pages["a.md"] = PAGES["a.md"] + """
        Broken: [same page](#9), [other page](./b.md#commented), [no page](./c.md#1).
        """
    src = sphinx_project(tmp_path / "bad", pages)
    _, warnings = sphinx_build(src)
    lines = (src / "a.md").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("Broken:"))
    assert myst_warnings(warnings) == [
        f"{src}/a.md:{line}: WARNING: 'myst' cross-reference target not found: '9' [myst.xref_missing]",
        f"{src}/a.md:{line}: WARNING: local id not found in doc 'b': 'commented' [myst.xref_missing]",
        f"{src}/a.md:{line}: WARNING: 'myst' cross-reference target not found: './c.md#1' "
        "[myst.xref_missing]",
    ]


def test_sphinx_build_W_fails_on_a_missing_anchor(tmp_path):
    """The real command line, as the site build runs it."""
    pages = dict(PAGES, **{"b.md": "# Page B\n\nNo anchors here.\n"})
    src = sphinx_project(tmp_path / "w", pages)
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html",
         str(src), str(tmp_path / "out")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode != 0
    assert f"{src}/a.md:5: WARNING: local id not found in doc 'b': '1' [myst.xref_missing]" in (
        proc.stderr)


def test_anchors_stay_per_page(tmp_path):
    """#1 on a page without anchor 1 does not resolve to another page's."""
    pages = {
        "index.md": "# Index\n\n```{toctree}\na\nb\n```\n",
        "a.md": '# A\n\n<a name="1"></a>\n\n## 1. One\n',
        "b.md": "# B\n\n[one](#1)\n",
    }
    _, warnings = sphinx_build(sphinx_project(tmp_path / "p", pages))
    assert [w.split(": WARNING: ")[1] for w in warnings] == [
        "'myst' cross-reference target not found: '1' [myst.xref_missing]"]


def test_anchor_paragraphs_leave_html_and_catalogs(tmp_path):
    src = sphinx_project(tmp_path / "i18n", PAGES)
    out, warnings = sphinx_build(src, builder="gettext")
    assert warnings == []
    pot = (out / "b.pot").read_text("utf-8")
    assert "a name" not in pot and 'msgid "1. 第一节"' in pot
    out, _ = sphinx_build(src)
    html = (out / "b.html").read_text("utf-8")
    assert '<a name="1"></a>' in html and '<p><a name="1"></a></p>' not in html


def test_translated_pages_keep_their_anchor_links(tmp_path):
    src = sphinx_project(tmp_path / "zh", PAGES)
    write(src / "locales" / "zh_CN" / "LC_MESSAGES" / "a.po", """
        msgid ""
        msgstr ""
        "Content-Type: text/plain; charset=UTF-8\\n"

        msgid "1. One"
        msgstr "1. 第一"

        msgid "[B's first](./b.md#1)"
        msgstr "[B 的第一节](./b.md#1)"
        """)
    out, warnings = sphinx_build(src, language="zh_CN")
    assert warnings == []
    html = (out / "a.html").read_text("utf-8")
    assert "第一" in html and 'href="b.html#1"' in html


def test_translated_links_keep_their_own_anchor(tmp_path):
    """Two links to different anchors of one page in one translated paragraph:
    Sphinx's Locale transform used to send both to the last one's anchor."""
    see = "\nSee [B one](./b.md#1) and [B span](./b.md#span-id).\n"
    pages = {**PAGES, "a.md": textwrap.dedent(PAGES["a.md"]) + see}
    src = sphinx_project(tmp_path / "zh2", pages)
    write(src / "locales" / "zh_CN" / "LC_MESSAGES" / "a.po", """
        msgid ""
        msgstr ""
        "Content-Type: text/plain; charset=UTF-8\\n"

        msgid "See [B one](./b.md#1) and [B span](./b.md#span-id)."
        msgstr "参见 [B 一](./b.md#1) 和 [B 段](./b.md#span-id)。"
        """)
    for language, texts in (("en", ("B one", "B span")), ("zh_CN", ("B 一", "B 段"))):
        out, warnings = sphinx_build(src, language=language)
        assert warnings == []
        html = (out / "a.html").read_text("utf-8")
        for text, href in zip(texts, ("b.html#1", "b.html#span-id")):
            assert re.search(rf'href="{re.escape(href)}"><span[^>]*>{text}<', html), (language, text)


def test_heading_slugs_still_work_and_win_over_anchors(tmp_path):
    pages = {
        "index.md": "# Index\n\n```{toctree}\na\n```\n",
        "a.md": '# A\n\n[slug](#intro) [deep](#深入-分析)\n\n<a name="intro"></a>\n\n## Intro\n\n'
                '### Sub\n\n#### 深入 分析\n',
    }
    out, warnings = sphinx_build(sphinx_project(tmp_path / "s", pages))
    # level 4 has no MyST slug (myst_heading_anchors = 3), and a Chinese title
    # has no matching docutils id either: still a warning
    assert [w.split(": WARNING: ")[1] for w in warnings] == [
        "'myst' cross-reference target not found: '深入-分析' [myst.xref_missing]"]
    assert 'href="#intro"' in (out / "a.html").read_text("utf-8")


@pytest.mark.parametrize("version", ["5.1.9", "5.3.0", "6.0.0"])
def test_unsupported_myst_parser_is_refused(version):
    with pytest.raises(ExtensionError, match=f"supports myst-parser .*found {version}"):
        sphinx_ext.check_myst_parser(version)


def test_supported_myst_parser_is_accepted():
    import myst_parser

    sphinx_ext.check_myst_parser()  # the installed one
    assert myst_parser.__version__ in sphinx_ext.SUPPORTED_MYST_PARSER
    sphinx_ext.check_myst_parser("5.2.7")


def test_setup_refuses_an_unsupported_myst_parser(tmp_path, monkeypatch):
    import myst_parser

    monkeypatch.setattr(myst_parser, "__version__", "5.3.0")
    with pytest.raises(ExtensionError, match="found 5.3.0"):
        sphinx_build(sphinx_project(tmp_path / "v", PAGES))


def test_the_guide_builds_cleanly(tmp_path):
    """The guide's own pages: every anchored link resolves, with -W semantics."""
    src = tmp_path / "site"
    shutil.copytree(ROOT / "paddle_style_guide" / "guide", src / "paddle_style_guide" / "guide")
    shutil.copy(ROOT / "docs" / "glossary.md", (src / "docs").mkdir(parents=True) or src / "docs")
    sphinx_project(src, {"index.md": "# Root\n\n```{toctree}\npaddle_style_guide/guide/index\n"
                                     "docs/glossary\n```\n"})
    _, warnings = sphinx_build(src)
    assert warnings == []


def test_sphinx_build_W_fails_on_a_dead_raw_html_link(tmp_path):
    """Issue 18: a raw HTML link renders as written, so <a href="./b.md#1">
    is dead in the site (b.md is built as b.html); MyST does not see it, the
    extension does."""
    pages = {
        "index.md": "# Index\n\n```{toctree}\na\nb\n```\n",
        "a.md": '# A\n\nSee <a href="./b.md#1">B</a> and <a href="./b.html#1">B again</a>.\n',
        "b.md": '# B\n\n<a name="1"></a>\n\n## 1. One\n',
    }
    src = sphinx_project(tmp_path / "raw", pages)
    cmd = [sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-b", "html", str(src), str(tmp_path / "out")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert (f"{src}/a.md:3: WARNING: dead raw HTML link in the built site: ./b.md#1 "
            "(no b.md in the site) [paddle_style_guide.dead_link]") in proc.stderr
    assert "b.html#1" not in proc.stderr  # the link to the built page works

    write(src / "a.md", '# A\n\nSee <a href="./b.html#1">B</a>.\n')
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
