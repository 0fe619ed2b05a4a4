"""The site ships its own code: the project's wheel on every gallery page, and a source link on every page.

* ``tools/build_site.py`` builds the wheel (``demos`` + ``paddle_style_guide``) into ``build/dist``
  before the HTML builds; this extension copies it to ``<language>/packages/`` of the HTML output.
* Every gallery page's download area (sphinx-gallery's footer) gets one more entry: a link to the
  wheel and the one ``pip install`` line that makes the page's script, notebook and "Copy this" blocks
  run (role ``tutorial-wheel``, directive ``tutorial-pip-install``).  Its sentence is ordinary reST in
  the generated page, so it is translated through the page's gettext catalog like any other text.
* Every page names its source file, relative to the repository (``gallery/fp16/plot_fp16_engines.py``,
  ``docs/migration.md``), and links to a copy of it in ``<language>/_page_sources/`` (template
  ``page-source.html`` in the secondary sidebar).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TUTORIAL_BUILD_DIR", ROOT / "build")).resolve()
WHEEL_DIR = "packages"  # in each language's HTML output
SOURCES_DIR = "_page_sources"
# The extras a reader of the gallery needs (pyproject.toml): everything the pages import, on a CPU.
PAGE_EXTRAS = "cpu"

# Appended to sphinx-gallery's download area of every example page (inside its footer container).
FOOTER = """
    .. container:: sphx-glr-download tutorial-package

      :tutorial-wheel:`Download the tutorial's package` (the ``demos`` code that this page imports) and
      install it, with what the page needs on a CPU, before you run the script, the notebook or a
      "Copy this" block:

      .. tutorial-pip-install:: {extras}
""".replace("{extras}", PAGE_EXTRAS)


def find_wheel() -> Path | None:
    """The wheel that ``tools/build_site.py`` built (``$TUTORIAL_WHEEL`` or the one in build/dist)."""
    env = os.environ.get("TUTORIAL_WHEEL")
    if env:
        return Path(env)
    wheels = sorted((BUILD / "dist").glob("*.whl"))
    return wheels[-1] if len(wheels) == 1 else None


def _wheel_name(env) -> str:
    wheel = find_wheel()
    if wheel is None or not wheel.is_file():
        if env.app.builder.format == "html":
            logger.warning("the project's wheel is missing from %s: build the site with "
                           "`python tools/build_site.py` (it builds the wheel first)", BUILD / "dist",
                           type="tutorial", subtype="wheel")
        return "trt_lowprec_tutorial.whl"
    return wheel.name


def _relative(env, target: str) -> str:
    return "../" * env.docname.count("/") + target


def wheel_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``:tutorial-wheel:`link text``` - a link to the wheel in this language's HTML output."""
    env = inliner.document.settings.env
    uri = _relative(env, f"{WHEEL_DIR}/{_wheel_name(env)}")
    node = nodes.reference(rawtext, text, refuri=uri, classes=["tutorial-wheel"])
    return [node], []


class PipInstall(Directive):
    """``.. tutorial-pip-install:: EXTRAS`` - the console line that installs the downloaded wheel."""

    required_arguments = 1
    has_content = False
    option_spec = {"class": directives.class_option}

    def run(self):
        env = self.state.document.settings.env
        line = f'$ pip install "{_wheel_name(env)}[{self.arguments[0]}]"'
        block = nodes.literal_block(line, line, language="console", classes=["tutorial-pip-install"])
        return [block]


# -- Source links --------------------------------------------------------------------------------------

def page_source(app: Sphinx, docname: str) -> Path | None:
    """The file of the repository that a page is made from (gallery pages: their script)."""
    parts = docname.split("/")
    if parts[:2] == ["docs", "auto_gallery"]:
        sub = parts[2:-1]
        name = parts[-1]
        folder = ROOT / "gallery" / Path(*sub) if sub else ROOT / "gallery"
        path = folder / ("GALLERY_HEADER.rst" if name == "index" else f"{name}.py")
        return path if path.is_file() else None
    path = Path(app.env.doc2path(docname))
    return path if path.is_file() else None


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if doctree is None or pagename not in app.env.all_docs:
        return
    source = page_source(app, pagename)
    if source is None:
        return
    rel = source.relative_to(ROOT).as_posix()
    context["page_source_path"] = rel
    context["page_source_url"] = "../" * pagename.count("/") + f"{SOURCES_DIR}/{rel}"


def _copy_outputs(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    wheel = find_wheel()
    if wheel is not None and wheel.is_file():
        folder = out / WHEEL_DIR
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        shutil.copy2(wheel, folder / wheel.name)
    for docname in sorted(app.env.all_docs):
        source = page_source(app, docname)
        if source is not None:
            target = out / SOURCES_DIR / source.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _extend_gallery_footer() -> None:
    """Add the package entry to sphinx-gallery's download area (its reST template for each example)."""
    from sphinx_gallery import gen_rst

    if FOOTER not in gen_rst.ZIP_DOWNLOAD:
        gen_rst.ZIP_DOWNLOAD += FOOTER.replace("{", "{{").replace("}", "}}")


def setup(app: Sphinx) -> dict:
    _extend_gallery_footer()
    app.add_role("tutorial-wheel", wheel_role)
    app.add_directive("tutorial-pip-install", PipInstall)
    app.connect("html-page-context", _page_context)
    # Before paddle_style_guide.sphinx_ext checks every link of the built site (default priority 500):
    # the wheel and the page sources must be in the output when their links are followed.
    app.connect("build-finished", _copy_outputs, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
