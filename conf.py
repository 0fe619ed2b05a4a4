"""Sphinx configuration for the low-precision TensorRT tutorial.

One source tree, two languages: English is the source text and Simplified
Chinese comes from the gettext catalogs in ``docs/locales``.  ``tools/build_site.py``
runs this configuration once per language (``-D language=zh_CN``); the gallery
scripts execute during the first build and the second one reuses their output
(sphinx-gallery skips scripts whose checksum is unchanged).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# The demo code and the style-guide tools are imported, never copied, by the build.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

# -- Project ---------------------------------------------------------------------

project = "Low-Precision Inference with TensorRT"
author = "The TensorRT low-precision tutorial authors"
copyright = "2026, " + author
root_doc = "docs/index"
language = "en"

# Only these folders are pages; everything else at the root (demos, tests, .venv) is not.
# The writing guide lives beside the tools that enforce it; its catalogs are in docs/locales too.
include_patterns = ["docs/**", "paddle_style_guide/guide/**"]
exclude_patterns = [
    "docs/locales/**",
    "docs/_templates/**",
    "docs/_static/**",
    "docs/_ext/**",
    "docs/auto_gallery/**/*.ipynb",
    "docs/auto_gallery/**/*.py",
    "docs/auto_gallery/**/*.md5",
    "docs/auto_gallery/**/*.json",
    "docs/auto_gallery/**/*.zip",
]

extensions = [
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
    "sphinx_design",
    "sphinx.ext.mathjax",
    "bilingual",
    # Paddle-style raw HTML anchors (<a name="2"></a>) become link targets; broken ones fail -W.
    "paddle_style_guide.sphinx_ext",
]

# -- Build discipline ------------------------------------------------------------

nitpicky = True
# Sphinx 9 keeps this False by default; say so explicitly since the build relies on it.
suppress_warnings: list[str] = []

# -- MyST ------------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "dollarmath", "deflist", "attrs_inline", "attrs_block"]
myst_heading_anchors = 3

# -- Internationalisation ----------------------------------------------------------

locale_dirs = ["docs/locales/"]
# One catalog per page: translators review a page at a time and catalogs stay small.
gettext_compact = False
# No UUIDs and no source locations: catalogs only change when the text does.
gettext_uuid = False
gettext_location = False
gettext_allow_fuzzy_translations = False

# -- sphinx-gallery ----------------------------------------------------------------

_only = os.environ.get("TUTORIAL_GALLERY_ONLY")
if _only:
    import re

    from sphinx.errors import ConfigError

    try:
        re.compile(_only)
    except re.error as _exc:
        raise ConfigError(f"TUTORIAL_GALLERY_ONLY={_only!r} is not a regular expression ({_exc})") from None

sphinx_gallery_conf = {
    "examples_dirs": ["gallery"],
    "gallery_dirs": ["docs/auto_gallery"],
    # Authors iterating on one page may run only the scripts matching TUTORIAL_GALLERY_ONLY (a regex);
    # the others are rendered without output and execute in the next full build (no md5 is written).
    "filename_pattern": os.environ.get("TUTORIAL_GALLERY_ONLY") or r"/plot_",
    # The order of the learning path; a new section folder lands before the speed page.
    "subsection_order": [
        "gallery/concepts", "gallery/fp16", "gallery/int8", "gallery/qat", "gallery/plugins",
        "gallery/resnet50", "*", "gallery/speed",
    ],
    # Deterministic pages: no run timings or memory figures inside translatable text.
    "min_reported_time": float("inf"),
    "write_computation_times": False,
    "show_memory": False,
    "show_signature": False,
    # Unchanged scripts are not re-run, so the second language reuses the first one's output.
    "run_stale_examples": False,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib", "gallery_log.record_execution"),
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
}

# -- HTML ----------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = "Low-Precision Inference with TensorRT"  # per language: docs/_ext/bilingual.py
templates_path = ["docs/_templates"]
html_static_path = ["docs/_static"]
html_css_files = ["custom.css"]
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "navbar_end": ["language-switcher", "theme-switcher"],
    "secondary_sidebar_items": ["page-toc"],
    "show_prev_next": True,
    "navigation_with_keys": False,
}
html_sidebars = {"**": ["sidebar-nav-bs"]}

copybutton_prompt_text = r"\$ |>>> |\.\.\. "
copybutton_prompt_is_regexp = True
