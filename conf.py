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
copyright = "2026, " + author  # per language: docs/_ext/bilingual.py
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
    # MathJax from _static, not a CDN: formulas render offline and behind firewalls.
    "offline_mathjax",
    "bilingual",
    # Chinese search on Sphinx 9.0.x (sphinx-doc/sphinx#14229); removable once Sphinx has the fix.
    "zh_search",
    # Gallery figures, their alt texts and the index cards in the page's language.
    "figure_i18n",
    "gallery_cards",
    # Inline literals or roles a translation left unclosed ("``x``（...") fail the build.
    "markup_check",
    # The tests' tags of code blocks (# requires:, # trt-api:, # test: run) become a note for readers.
    "block_tags",
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

# docs/locales: one catalog per page (and figures.po for the text drawn in gallery figures);
# docs/_ext/locales: the theme's own strings that its Chinese catalog lacks (sphinx.po).
locale_dirs = ["docs/locales/", "docs/_ext/locales/"]
# One catalog per page: translators review a page at a time and catalogs stay small.
gettext_compact = False
# No UUIDs and no source locations: catalogs only change when the text does.
gettext_uuid = False
gettext_location = False
gettext_allow_fuzzy_translations = False
# A gallery figure x.png has its Chinese version in zh_CN/x.png (drawn by docs/_ext/figure_i18n.py).
figure_language_filename = "{path}{language}/{basename}{ext}"

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
        "gallery/concepts", "gallery/fp16", "gallery/int8", "gallery/debugging", "gallery/qat", "gallery/plugins",
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
    "reset_modules": ("matplotlib", "gallery_log.record_execution", "figure_i18n.forget_translations"),
    # Each figure is saved in English and, translated through figures.po, in Chinese.
    "image_scrapers": ("figure_i18n.scrape_figures",),
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

# -- Readers take the code away ------------------------------------------------------
# The project's wheel and its `pip install` line in every gallery page's download area, and a
# link to its source file on every page (docs/_ext/package_download.py).  The executed gallery
# shows what the code prints: no progress bars, no known harmless library noise (demos/quiet.py,
# run before each script; tqdm reads TQDM_DISABLE when it is imported).
extensions.append("package_download")
os.environ["TQDM_DISABLE"] = "1"
sphinx_gallery_conf["reset_modules"] = (*sphinx_gallery_conf["reset_modules"], "demos.quiet.for_gallery")
html_theme_options["secondary_sidebar_items"] = ["page-toc", "page-source"]
