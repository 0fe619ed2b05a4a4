"""What a few gallery pages print, read from the rendered HTML of both languages (review items D25, C24)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import LANGUAGES
from .reader import GALLERY, gallery_page, soup

# A line of an output block this long still fits the content column at 1400 px; the CSS wraps longer
# lines (pre-wrap), which breaks the columns of a table.
MAX_TABLE_WIDTH = 100

TABLES = {  # page[#which table] -> (text of the table's header line, first words of its rows)
    "speed/plot_why_low_precision_is_fast.py": (
        "operators ONNX Runtime runs", ("Conv", "QLinearConv", "Clip", "QuantizeLinear", "DequantizeLinear")),
    "speed/plot_why_low_precision_is_fast.py#kernels": (
        "operator kind", ("dense", "depthwise", "quantize", "Clip", "other", "total")),
    "plugins/plot_preprocess_plugin.py": (
        "first 10.x", ("IPlugin", "IPluginV3", "OnnxParser", "plugin.aot_impl", "INetworkDefinition.add_plugin")),
}


def _outputs(html_root: Path, language: str, script: str) -> list[str]:
    page = gallery_page(html_root, language, GALLERY / script)
    if not page.exists():
        pytest.skip(f"{page} is not built")
    return [pre.get_text() for pre in soup(page).select("div.sphx-glr-script-out pre")]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("script", sorted(TABLES))
def test_wide_tables_fit_the_page(html_root: Path, language: str, script: str):
    header, rows = TABLES[script]
    script = script.split("#")[0]
    blocks = [b for b in _outputs(html_root, language, script) if header in b]
    if script.startswith("plugins/") and not blocks:
        assert any("the binding wheels could not be introspected" in b for b in _outputs(html_root, language, script))
        return
    assert len(blocks) == 1, f"{script}: no single output block with the table headed {header!r}"
    lines = blocks[0].splitlines()
    table = [ln for ln in lines if header in ln or ln.split(" ", 1)[0] in rows]
    assert len(table) > len(rows) // 2
    wide = [ln for ln in table if len(ln) > MAX_TABLE_WIDTH]
    assert not wide, f"{script} ({language}): table lines wider than {MAX_TABLE_WIDTH} characters: {wide[:2]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_qat_build_explains_the_precision_counts(html_root: Path, language: str):
    """Review C24: the QAT page's TensorRT-RTX line shows FP32/INT64 layer counts for an INT8 plan; the page
    must count the DQ-fed layers next to them and list the FP32 ones by kind (the text explains both)."""
    blocks = [b for b in _outputs(html_root, language, "qat/plot_qat.py") if "output precisions" in b]
    assert blocks, "the QAT page prints no TensorRT-RTX build line"
    text = blocks[0]
    assert "DQ-fed layers counted apart" in text and "FP32 layers by kind: ACTIVATION" in text
