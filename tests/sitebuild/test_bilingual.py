"""The switcher's URL arithmetic, independent of a build."""

import pytest

from bilingual import other_language, switch_url


@pytest.mark.parametrize(
    "pagename, language, expected",
    [
        ("docs/index", "en", "../../zh_CN/docs/index.html"),
        ("docs/auto_gallery/plot_x", "zh_CN", "../../../en/docs/auto_gallery/plot_x.html"),
        ("genindex", "en", "../zh_CN/genindex.html"),
    ],
)
def test_switch_url(pagename, language, expected):
    assert switch_url(pagename, language) == expected


def test_unknown_language_is_rejected():
    with pytest.raises(ValueError, match="language must be one of"):
        other_language("fr")
