"""The Sphinx extensions behind the Chinese site, on small inputs (no site build needed):
figure translation (docs/_ext/figure_catalog.py, figure_i18n.py), the Chinese search fix
(zh_search.py), the unrendered-markup check (markup_check.py) and the gallery cards
(gallery_cards.py)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import polib  # noqa: E402
import pytest  # noqa: E402
from docutils.core import publish_doctree  # noqa: E402

import figure_catalog  # noqa: E402
import figure_i18n  # noqa: E402
import gallery_cards  # noqa: E402
import markup_check  # noqa: E402
import zh_search  # noqa: E402
from figure_catalog import FigureCatalog, template  # noqa: E402

from .conftest import ROOT  # noqa: E402


def _po(tmp_path: Path, entries: dict[str, str]) -> Path:
    po = polib.POFile()
    for msgid, msgstr in entries.items():
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    path = tmp_path / "figures.po"
    po.save(str(path))
    return path


# -- figure_catalog ----------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "msgid", "numbers"), [
    ("EfficientNet-Lite0 on 16 images", "EfficientNet-Lite0 on {0} images", ["16"]),
    ("share below 2**-14 (subnormal)", "share below {0}**{1} (subnormal)", ["2", "-14"]),
    ("NVIDIA H100 80GB HBM3, 2026-01-05", "NVIDIA H100 80GB HBM3, {0}", ["2026-01-05"]),
    ("blocks.5.0.conv_pw input, 99.99th percentile", "{0} input, 99.99th percentile", ["blocks.5.0.conv_pw"]),
    ("AutoCast data_max default (512)", "AutoCast {0} default ({1})", ["data_max", "512"]),
    ("2.58x faster than 1x1 conv", "{0}x faster than 1x1 conv", ["2.58"]),
    ("a {set}", "a {{set}}", []),
])
def test_numbers_become_placeholders_names_stay(line, msgid, numbers):
    assert template(line) == (msgid, numbers)


@pytest.mark.parametrize(("line", "is_message"), [
    ("SQNR [dB]", True), ("classifier", True), ("blocks.0.0.conv_pw input", True),
    ("FP8 E4M3", False), ("|x|", False), ("conv_head", False), ("0.25", False),
    ("blocks.1.1.conv_pw, node_add_198", False), ("tf32 channels_last", False),
    ("NVIDIA H200 SXM", False), ("TFLOPS (int8: TOPS)", False), ("MFLOP per image", True),
])
def test_only_lines_with_english_words_are_messages(line, is_message):
    assert figure_catalog.needs_translation(line) is is_message


def test_lines_translate_through_templates_and_patterns(tmp_path):
    catalog = FigureCatalog.load(_po(tmp_path, {
        "EfficientNet-Lite0 on {0} images": "EfficientNet-Lite0，{0} 张图像",
        "PyTorch eager on {gpu}, {date}": "PyTorch eager 模式，{gpu}，{date}",
        "value": "数值",
        "broken {0}": "坏的 {1}",
    }))
    assert catalog.translate("EfficientNet-Lite0 on 32 images\nvalue") == "EfficientNet-Lite0，32 张图像\n数值"
    assert catalog.translate_line("PyTorch eager on NVIDIA H200, 2026-02-01") == "PyTorch eager 模式，NVIDIA H200，2026-02-01"
    assert catalog.translate_line("0.5") == "0.5"  # no letter: not a message
    assert catalog.translate_line("unknown label") is None
    assert catalog.translate_line("broken 3") is None  # a translation that loses a placeholder
    # The fingerprint follows the translations.
    before = catalog.key(["value"])
    changed = FigureCatalog.load(_po(tmp_path, {"value": "值"}))
    assert changed.key(["value"]) != before


def test_pot_lists_each_message_once_and_keeps_patterns(tmp_path):
    po = _po(tmp_path, {"PyTorch eager on {gpu}, {date}": "PyTorch eager 模式，{gpu}，{date}",
                        "gone label": "已删除的标签"})
    po_file = polib.pofile(str(po))
    po_file[1].comment = "e.g. gone label\nin sphx_glr_plot_never_ran_001.png"
    po_file.save(str(po))
    pot = tmp_path / "figures.pot"
    count = figure_catalog.write_pot(
        {"sphx_glr_plot_a_001.png": ["value\nPyTorch eager on NVIDIA H100, 2026-01-05", "12 images"],
         "sphx_glr_plot_b_001.png": ["value", "20 images", "0.5"]},
        FigureCatalog.load(po), pot, keep_from=po)
    entries = {e.msgid: e for e in polib.pofile(str(pot))}
    assert set(entries) == {"value", "{0} images", "PyTorch eager on {gpu}, {date}", "gone label"}
    assert count == 4
    assert "sphx_glr_plot_a_001.png, sphx_glr_plot_b_001.png" in entries["value"].comment
    assert entries["{0} images"].comment.startswith("e.g. 12 images")


# -- figure_i18n -------------------------------------------------------------------------------


def _figure():
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7, 3))
    ax1.plot([0, 1], [1, 2], label="measured")
    ax1.set_yticks([1, 2], ["INT8, scale 448/127", "FP8 E4M3"])
    ax1.set_xlabel("value")
    ax1.legend()
    ax2.bar([0, 1], [3, 4])
    ax2.set_xlabel("step")
    ax2.set_ylabel("learning rate")
    ax2.annotate("85%", (0, 3))
    fig.suptitle("Activations on 16 images")
    fig.tight_layout()
    return fig


CHINESE = {
    "measured": "实测", "INT8, scale {0}/{1}": "INT8，缩放因子 {0}/{1}", "FP8 E4M3": "FP8 E4M3",
    "value": "数值", "step": "步数", "learning rate": "学习率", "Activations on {0} images": "{0} 张图像上的激活值",
}


def test_a_figure_is_saved_in_english_and_in_chinese(tmp_path, monkeypatch):
    monkeypatch.setattr(figure_i18n, "CATALOG", _po(tmp_path, CHINESE))
    images = tmp_path / "images"
    images.mkdir()
    fig = _figure()
    texts_before = [slot.get() for slot in figure_i18n.text_slots(fig)]
    assert "INT8, scale 448/127" in texts_before and "85%" in texts_before
    rst = figure_i18n.scrape_figures(None, {"image_path_iterator": iter([str(images / "sphx_glr_plot_t_001.png")])},
                                     {"src_dir": str(tmp_path)})
    assert ".. image:: /images/sphx_glr_plot_t_001.png" in rst and ":alt:" not in rst
    assert not plt.get_fignums()
    record = json.loads((images / "zh_CN" / "sphx_glr_plot_t_001.json").read_text(encoding="utf-8"))
    assert record["alt"] == {"en": "Activations on 16 images", "zh_CN": "16 张图像上的激活值"}
    assert record["lines"]["INT8, scale 448/127"] == "INT8，缩放因子 448/127"
    assert None not in record["lines"].values()
    english, chinese = images / "sphx_glr_plot_t_001.png", images / "zh_CN" / "sphx_glr_plot_t_001.png"
    assert english.read_bytes() != chinese.read_bytes()


def test_chinese_text_is_drawn_with_real_glyphs(tmp_path, monkeypatch):
    """No tofu: matplotlib warns "Glyph ... missing from font(s)" when it draws a box instead."""
    monkeypatch.setattr(figure_i18n, "CATALOG", _po(tmp_path, CHINESE))
    fig = _figure()
    figure_i18n.translate_figure(fig, figure_i18n.catalog(), figure_i18n.ensure_cjk_font())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(tmp_path / "zh.png")
    plt.close(fig)
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_a_figure_without_titles_is_described_by_its_axes():
    fig, ax = plt.subplots()
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    assert figure_i18n.describe(fig, "en") == "learning rate vs step"
    plt.close(fig)
    fig, ax = plt.subplots()
    ax.set_xlabel("MiB copied to the GPU per batch")
    assert figure_i18n.describe(fig, "en") == "MiB copied to the GPU per batch"
    plt.close(fig)


def test_tight_layout_is_redone_only_where_the_script_used_it():
    fig = _figure()
    assert figure_i18n._uses_tight_layout(fig)
    plt.close(fig)
    fig, ax = plt.subplots()
    fig.subplots_adjust(left=0.3)
    assert not figure_i18n._uses_tight_layout(fig)
    assert fig.subplotpars.left == pytest.approx(0.3)
    plt.close(fig)


def test_changed_translations_make_a_script_run_again(tmp_path, monkeypatch):
    """A record whose fingerprint no longer matches figures.po marks its script stale."""
    po = _po(tmp_path, CHINESE)
    monkeypatch.setattr(figure_i18n, "CATALOG", po)
    src = tmp_path
    (src / "gallery").mkdir()
    (src / "gallery" / "plot_t.py").write_text('"""T\n=\n"""\n')
    out = src / "auto" / "images"
    out.mkdir(parents=True)
    _figure()
    figure_i18n.scrape_figures(None, {"image_path_iterator": iter([str(out / "sphx_glr_plot_t_001.png")])},
                               {"src_dir": str(src)})

    class App:
        srcdir = str(src)

        class config:
            sphinx_gallery_conf = {"examples_dirs": ["gallery"], "gallery_dirs": ["auto"]}

    assert figure_i18n.stale_translations(App) == []
    entries = dict(CHINESE, value="值")
    po.unlink()
    _po(tmp_path, entries)
    assert [s.name for s, _ in figure_i18n.stale_translations(App)] == ["plot_t.py"]


# -- zh_search -------------------------------------------------------------------------------


def test_the_chinese_search_binds_a_stemmer_that_exists():
    import sphinx.search.zh

    assert zh_search.sphinx_stemmer_binding(zh_search.ChineseSearch) == "window.Stemmer = EnglishStemmer;"
    assert "var EnglishStemmer" in zh_search.ChineseSearch.js_stemmer_code
    # On Sphinx 9.0.4 the stock class binds a class that does not exist (sphinx#14229).
    stock = zh_search.sphinx_stemmer_binding(sphinx.search.zh.SearchChinese)
    assert zh_search.sphinx_has_the_bug() is (stock != "window.Stemmer = EnglishStemmer;")


# -- markup_check ----------------------------------------------------------------------------


def test_unclosed_literal_before_a_fullwidth_bracket_is_found():
    broken = publish_doctree("``IPluginV3``（TensorRT 10.0 及以后）把插件拆开。",
                             settings_overrides={"report_level": 5})
    fixed = publish_doctree("``IPluginV3``\\ （TensorRT 10.0 及以后）把插件拆开。\n\n:: \n\n    x = ``y``\n",
                            settings_overrides={"report_level": 5})
    assert [excerpt for _, excerpt in markup_check.leftover_markup(broken)]
    assert markup_check.leftover_markup(fixed) == []


# -- gallery_cards ---------------------------------------------------------------------------


def test_card_text_is_the_pages_title_and_first_paragraph_without_markup():
    doctree = publish_doctree("标题：校准\n==========\n\nTensorRT 10 的 ``IInt8MinMaxCalibrator`` 与 :math:`\\mathrm{amax}`。\n\n"
                              "第二段。\n", settings_overrides={"report_level": 5, "doctitle_xform": False})
    title, intro = gallery_cards.title_and_intro(doctree)
    assert title == "标题：校准"
    assert intro == "TensorRT 10 的 IInt8MinMaxCalibrator 与 amax。"


@pytest.mark.parametrize(("rest", "plain"), [
    ("校准 让几百个输入（ IInt8MinMaxCalibrator 、 amax ）", "校准让几百个输入（IInt8MinMaxCalibrator、amax）"),
    ("用16张图像", "用 16 张图像"),
    ("KL(QAT || FP32) 与 SGD 步数 的关系", "KL(QAT || FP32) 与 SGD 步数的关系"),
    ("plain English text, unchanged", "plain English text, unchanged"),
])
def test_chinese_plain_text_spacing(rest, plain):
    assert figure_catalog.tidy_chinese_spacing(rest) == plain


def test_extensions_are_in_the_configuration():
    conf = (ROOT / "conf.py").read_text(encoding="utf-8")
    for name in ("zh_search", "offline_mathjax", "figure_i18n", "gallery_cards", "markup_check"):
        assert f'"{name}"' in conf
