"""Chinese full-text search that works on Sphinx 9.0.x (workaround for sphinx-doc/sphinx#14229).

Sphinx's Chinese search language splits words with jieba and stems Latin words with the
*English* Snowball stemmer, but Sphinx 9.0 names the JavaScript stemmer class after the
language (``window.Stemmer = ChineseStemmer;`` in ``_static/language_data.js``).  No such
class exists, so the script stops with a ReferenceError, ``searchtools.js`` then fails with
"Stemmer is not defined", and ``search.html`` says "searching" for ever.

The fix upstream (sphinx-doc/sphinx#14416) derives the class name from the stemmer file.
Until the project can move to a Sphinx release with that fix, this extension registers a
Chinese search language whose stemmer code is spelled out: the same base and English
stemmer, bound under the name that exists.  It probes Sphinx first and does nothing when
Sphinx already emits a working binding, so it can stay installed until it is deleted.
"""

from __future__ import annotations

from types import SimpleNamespace

from sphinx.application import Sphinx
from sphinx.search import _MINIFIED_JS_PATH, IndexBuilder
from sphinx.search.zh import SearchChinese
from sphinx.util import logging

logger = logging.getLogger(__name__)

# SearchChinese stems Latin words with snowballstemmer's 'english'; the JS file of that
# stemmer defines this class.
ENGLISH_STEMMER_CLASS = "EnglishStemmer"


def sphinx_stemmer_binding(language_class: type = SearchChinese) -> str:
    """The ``window.Stemmer = ...`` line that this Sphinx writes for ``language_class``."""
    code = IndexBuilder.get_js_stemmer_code(SimpleNamespace(lang=language_class({})))
    return next((line for line in code.splitlines() if line.startswith("window.Stemmer")), "")


def sphinx_has_the_bug() -> bool:
    """True when Sphinx binds the Chinese stemmer to a class that its JS does not define."""
    return sphinx_stemmer_binding() != f"window.Stemmer = {ENGLISH_STEMMER_CLASS};"


def _english_stemmer_code() -> str:
    return "\n".join((
        (_MINIFIED_JS_PATH / "base-stemmer.js").read_text(encoding="utf-8"),
        (_MINIFIED_JS_PATH / SearchChinese.js_stemmer_rawcode).read_text(encoding="utf-8"),
        f"window.Stemmer = {ENGLISH_STEMMER_CLASS};",
    ))


class ChineseSearch(SearchChinese):
    """SearchChinese with its JavaScript stemmer inlined under the class name it defines.

    An empty ``js_stemmer_rawcode`` makes Sphinx put ``js_stemmer_code`` into
    ``language_data.js`` as is, instead of building the broken binding.
    """

    js_stemmer_rawcode = ""
    js_stemmer_code = _english_stemmer_code()


def setup(app: Sphinx) -> dict:
    if sphinx_has_the_bug():
        app.add_search_language(ChineseSearch)
    else:
        logger.info("zh_search: this Sphinx binds the Chinese stemmer correctly; "
                    "docs/_ext/zh_search.py can be removed")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
