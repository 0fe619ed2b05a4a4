"""MathJax served from the built site, so formulas render offline and behind firewalls.

``sphinx.ext.mathjax`` loads MathJax 3 from a CDN by default.  This extension copies the
same component (``tex-mml-chtml.js``, MathJax 3.2.2) and the files it loads on demand (TeX
extensions, CHTML fonts, menu, accessibility) from the PyPI package
``sphinx-mathjax-offline`` into ``_static/mathjax`` and points ``mathjax_path`` at it.  The
package is used as a data source only: its own Sphinx hook would copy all 24 MB of MathJax
into every language; this copies the 3 MB the component can ask for.
"""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

DISTRIBUTION = "sphinx-mathjax-offline"
COMPONENT = "tex-mml-chtml.js"  # what sphinx.ext.mathjax loads from the CDN by default
# Loaded by the component at run time: \boldsymbol and friends, MathML input, the fonts,
# the context menu and its assistive MathML.
ON_DEMAND = ("input/tex/extensions", "input/mml", "output/chtml", "ui", "a11y")
TARGET = "mathjax"  # under _static


def mathjax_source() -> Path:
    """The folder of MathJax files shipped by the sphinx-mathjax-offline wheel."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ExtensionError(f"{DISTRIBUTION} is not installed: run `make site` (it installs "
                             "requirements.txt) or `pip install -r requirements.txt`") from None
    folder = Path(str(dist.locate_file("sphinx-mathjax-offline/static/mathjax")))
    if not (folder / COMPONENT).is_file():
        raise ExtensionError(f"{DISTRIBUTION} has no {COMPONENT} in {folder}; reinstall it")
    return folder


def copy_mathjax(source: Path, static_dir: Path) -> Path:
    """Copy the component and its on-demand files to ``static_dir/mathjax``; returns that folder."""
    target = static_dir / TARGET
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / COMPONENT, target / COMPONENT)
    for sub in ON_DEMAND:
        shutil.copytree(source / sub, target / sub, dirs_exist_ok=True)
    return target


def _point_at_local_copy(app: Sphinx, config) -> None:
    mathjax_source()  # fail at the start of the build, not after it
    config.mathjax_path = f"{TARGET}/{COMPONENT}"


def _copy_after_build(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(mathjax_source(), Path(app.outdir) / "_static")


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", _point_at_local_copy)
    app.connect("build-finished", _copy_after_build)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
