"""The project's writing guide (MyST pages in ``guide/``) and the tools that
enforce it: an anchored link checker for Markdown pages written in
PaddlePaddle's documentation style (``python -m paddle_style_guide check``)
and a Sphinx extension (``paddle_style_guide.sphinx_ext``) that makes
myst-parser resolve links to raw HTML anchors such as ``<a name="2"></a>``.
"""

from __future__ import annotations

__version__ = "1.0.0"
__all__ = ["Checker", "Options", "Problem", "Result", "check_paths", "__version__"]


def __getattr__(name: str):
    # imported on first use, so that subpackages (e.g. trt_api) stay light
    if name in __all__:
        from . import checker

        return getattr(checker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
