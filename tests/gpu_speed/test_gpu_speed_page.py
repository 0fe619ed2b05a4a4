"""The speed page renders from whatever GPU results are committed: with none it says "not measured yet" and
names the commands; with latency, alignment and two GPU ladders it draws their figures and prints their
numbers. The page script is executed as sphinx-gallery executes it, with the result folders pointed at
temporary ones."""

import contextlib
import io
import json
import runpy
import shutil
from pathlib import Path

import pytest

from demos.gpu_speed import alignment, analysis, latency, results

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "gallery" / "speed" / "plot_why_low_precision_is_fast.py"
COMMITTED_LADDER = analysis.RESNET50_RESULTS / "bench_gpu_h200.json"


def _render(monkeypatch, gpu_speed_dir: Path, ladder_dir: Path) -> tuple[str, int]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(results, "RESULTS_DIR", gpu_speed_dir)
    monkeypatch.setattr(analysis, "RESNET50_RESULTS", ladder_dir)
    plt.close("all")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(PAGE), run_name="__main__")
    figures = len(plt.get_fignums())
    plt.close("all")
    return out.getvalue(), figures


def _h100_ladder(path: Path) -> None:
    """The H200 file's shape with another GPU: what `bench --backend torch-cuda` writes on an H100."""
    doc = json.loads(COMMITTED_LADDER.read_text(encoding="utf-8"))
    doc["provenance"]["gpu"]["name"] = "NVIDIA H100 80GB HBM3"
    doc["provenance"]["date"] = "2026-12-06T00:00:00+00:00"
    for rec in doc["results"]:
        rec["images_per_s"] *= 0.9  # arbitrary: the page must not care
    path.write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.slow
def test_page_with_and_without_gpu_results(tmp_path, monkeypatch, latency_doc, alignment_doc):
    empty, ladder_none = tmp_path / "empty", tmp_path / "ladder_none"
    empty.mkdir()
    ladder_none.mkdir()
    bare, bare_figures = _render(monkeypatch, empty, ladder_none)
    assert "Channel alignment: not measured yet" in bare and "python -m demos.gpu_speed.alignment --out" in bare
    assert "ResNet50 latency: not measured yet" in bare and "python -m demos.gpu_speed.latency --out" in bare
    assert "PyTorch ladder on H100 SXM: not measured yet" in bare
    assert "PyTorch ladder on H200 SXM: not measured yet" in bare

    full, ladders = tmp_path / "full", tmp_path / "ladders"
    full.mkdir()
    ladders.mkdir()
    results.write(full / "latency_h100.json", latency_doc, latency.SCHEMA)
    results.write(full / "alignment_h100.json", alignment_doc, alignment.SCHEMA)
    shutil.copy(COMMITTED_LADDER, ladders)
    _h100_ladder(ladders / "bench_gpu_h100.json")
    text, figures = _render(monkeypatch, full, ladders)
    assert "not measured yet" not in text
    assert figures == bare_figures + 3  # alignment, batch-1 latency and the batch sweep
    assert "batch 1, a CUDA graph: p50 4.00 -> 1.00 ms (4.0x)" in text
    assert "batch 1, FP16 instead of FP32, both eager: p50 6.00 -> 4.00 ms (1.5x)" in text
    assert "failed: BackendCompilerFailed" in text and "refused: gemm int8 C=63" in text
    assert "PyTorch ladder on NVIDIA H100 80GB HBM3 (bench_gpu_h100.json" in text
    assert "PyTorch ladder on NVIDIA H200 (bench_gpu_h200.json" in text
