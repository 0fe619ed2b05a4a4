"""Language switcher: every page links to the same page in the other language.

The site is built once per language into sibling folders (``build/html/en`` and
``build/html/zh_CN``), so the counterpart of ``<lang>/<pagename>.html`` is
``<other>/<pagename>.html``, reached by climbing out of the page's folder.
"""

from __future__ import annotations

from sphinx.application import Sphinx

LANGUAGES = {"en": "English", "zh_CN": "简体中文"}

# Configuration strings that gettext catalogs cannot reach (they live in conf.py, not in pages).
TITLES = {
    "en": "Low-Precision Inference with TensorRT",
    "zh_CN": "TensorRT 低精度推理",
}
SHORT_TITLES = {"en": "TensorRT Low Precision", "zh_CN": "TensorRT 低精度推理"}
# The theme puts this option in the search box as is (no gettext).
SEARCH_BAR_TEXTS = {"en": "Search the docs ...", "zh_CN": "搜索文档……"}
# The footer line; the theme wraps it in "© Copyright %(copyright)s." (in Chinese:
# docs/_ext/locales/zh_CN/LC_MESSAGES/sphinx.po).
COPYRIGHTS = {
    "en": "2026, The TensorRT low-precision tutorial authors",
    "zh_CN": "2026 TensorRT 低精度推理教程作者",
}


def other_language(language: str) -> str:
    """The language the switcher offers on a page written in ``language``."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {sorted(LANGUAGES)}, got {language!r}")
    return "zh_CN" if language == "en" else "en"


def switch_url(pagename: str, language: str) -> str:
    """Relative URL from ``pagename`` in ``language`` to the same page in the other language."""
    up = "../" * (pagename.count("/") + 1)
    return f"{up}{other_language(language)}/{pagename}.html"


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    language = app.config.language
    other = other_language(language)
    context["lang_switch_url"] = switch_url(pagename, language)
    context["lang_switch_label"] = LANGUAGES[other]
    context["lang_switch_code"] = other.replace("_", "-")


def _localize_config(app: Sphinx, config) -> None:
    """Set the titles for the language given on the command line (``-D language=...``)."""
    other_language(config.language)  # reject an unsupported language early
    config.html_title = TITLES[config.language]
    config.html_short_title = SHORT_TITLES[config.language]
    config.copyright = COPYRIGHTS[config.language]
    config.html_theme_options = {
        **config.html_theme_options,
        "logo": {"text": SHORT_TITLES[config.language]},
        "search_bar_text": SEARCH_BAR_TEXTS[config.language],
    }


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _localize_config)
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
