"""The report's rendering of the committed results: every GPU configuration, comparisons, figures, CPU tables.

These run on the result files committed under demos/resnet50/results/ (produced by the demo's own `bench`
and pipeline runs), the same files the walkthrough page renders.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from demos.resnet50 import bench, report  # noqa: E402
from demos.resnet50.__main__ import main  # noqa: E402

RESULTS = Path(__file__).resolve().parents[2] / "demos" / "resnet50" / "results"
GPU_FILES = sorted(RESULTS.glob("bench_gpu_*.json"))
FULL = RESULTS / "cpu_efficientnet_lite0"


def _gpu_records():
    if not GPU_FILES:
        pytest.skip("no committed GPU benchmark")
    return [{**json.loads(p.read_text()), "_file": str(p)} for p in GPU_FILES]


def test_every_gpu_configuration_is_rendered():
    for rec in _gpu_records():
        g = report.gpu_benchmark(rec)
        lines = report.gpu_lines(g)
        rows = [ln for ln in lines if ln.startswith("| ") and not ln.startswith("| configuration")]
        assert len(rows) == len(rec["results"]) + len(rec.get("skipped") or [])
        for r in rec["results"]:
            assert any(row.startswith(f"| {r['variant']} | {report.config_label(r)} | {r['batch']} | "
                                      f"{r['images_per_s']:,.0f} |") for row in rows), r["variant"]
        text = "\n".join(lines)
        assert rec["provenance"]["gpu"]["name"] in text and rec["provenance"]["gpu"]["driver"] in text


def test_comparison_is_computed_for_records_without_one():
    for rec in _gpu_records():
        stripped = {k: v for k, v in rec.items() if k != "comparison"}
        gpu = rec["provenance"]["gpu"]
        expected = bench.gpu_comparison(rec["results"], gpu.get("name"), gpu.get("sm_count"))
        assert report.gpu_benchmark(stripped)["comparison"] == expected
        best = max(rec["results"], key=lambda r: r["images_per_s"])
        assert expected["best_config"] == best["variant"]


def test_config_labels_name_dtype_layout_and_compile():
    by_variant = {r["variant"]: r for rec in _gpu_records() for r in rec["results"]}
    for variant, r in by_variant.items():
        label = report.config_label(r)
        assert label.startswith(r["dtype"])
        assert ("channels_last" in label) == bool(r["channels_last"])
        assert ("torch.compile" in label) == bool(r["compile_mode"]), variant


def test_full_size_report_figures():
    rep = json.loads((FULL / "report.json").read_text())
    fig = report.figure(rep, title="What the figure shows")
    try:
        # The title comes first, then where it ran (A6: no suptitle call left at the end of a gallery cell).
        what, where = fig.get_suptitle().split("\n")
        assert what == "What the figure shows" and where.startswith(rep["model"])
        assert len(fig.axes) == 3
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert labels == [r["precision"] for r in rep["rows"]]
        tops = sorted(round(100 * r["top1"], 1) for r in rep["rows"])
        bars = sorted(round(p.get_width(), 1) for p in fig.axes[0].patches)
        assert bars == tops
    finally:
        plt.close(fig)
    assert report.gpu_figure(rep) is None  # this report was written without GPU results
    rep["gpu_benchmarks"] = [report.gpu_benchmark(r) for r in _gpu_records()]
    gfig = report.gpu_figure(rep)
    try:
        assert len(gfig.axes) == len(GPU_FILES)
        assert len(gfig.axes[0].patches) == len(rep["gpu_benchmarks"][0]["results"])
    finally:
        plt.close(gfig)


def test_cpu_bench_table_with_provenance():
    rec = json.loads((RESULTS / "bench_cpu_resnet50_random.json").read_text())
    lines = report.bench_lines(rec)
    assert len([ln for ln in lines if ln.startswith("| ") and "| model |" not in ln]) == len(rec["results"])
    assert "onnxruntime: " in lines[-1] and "cpu: " in lines[-1]
    # The speed-up column is each row's throughput over the FP32 row of the same batch.
    fp32 = next(r["images_per_s"] for r in rec["results"] if r["variant"] == "fp32")
    for r in rec["results"]:
        row = next(ln for ln in lines if ln.startswith(f"| {r['variant']} |"))
        assert row.split(" | ")[4] == f"{r['images_per_s'] / fp32:.2f}"


def test_report_stage_writes_gpu_plot(tmp_path, capsys):
    work = tmp_path / "w"
    (work / "results").mkdir(parents=True)
    for p in FULL.glob("*.json"):
        if p.name != "report.json":
            (work / "results" / p.name).write_text(p.read_text())
    extra = [str(p) for p in GPU_FILES]
    assert main(["--workdir", str(work), "report", "--extra", *extra]) == 0
    out = capsys.readouterr().out
    assert (work / "report.png").stat().st_size > 10_000
    if GPU_FILES:
        assert (work / "report_gpu.png").stat().st_size > 10_000
        assert "## PyTorch on NVIDIA" in out
    fp32 = json.loads((FULL / "eval_fp32_ort.json").read_text())
    assert "INT8 PTQ percentile" in out and f"| FP32 | {100 * fp32['top1']:.2f} |" in out
