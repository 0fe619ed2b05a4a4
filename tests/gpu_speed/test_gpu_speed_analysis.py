"""What the page derives: roofs from results or datasheets, ResNet50's placement, the ladder reader."""

import json

import pytest

from demos.errors import UserError
from demos.gpu_speed import analysis, roofline
from demos.gpu_speed.datasheet import DATASHEETS


@pytest.fixture(scope="module")
def layers():
    return roofline.count_layers()


@pytest.mark.parametrize("gpu", sorted(DATASHEETS))
def test_resnet50_on_the_datasheet_roofline(layers, gpu):
    roofs = analysis.datasheet_roofs(DATASHEETS[gpu])
    placed = {p.precision: p for p in analysis.place_resnet50(layers, roofs)}
    assert set(placed) == set(analysis.RESNET50_PRECISIONS)
    flops = roofline.traffic(layers, 2, analysis.BATCH).flops
    for p in placed.values():
        assert p.attainable == pytest.approx(min(roofs.compute[analysis.RESNET50_PRECISIONS[p.precision][0]],
                                                 p.intensity * roofs.bandwidth_tbps))
        assert p.images_per_second == pytest.approx(p.attainable * 1e12 / flops)
    # Halving the bytes doubles the intensity, and the tensor-core roofs double with it: same side of the ridge.
    assert placed["fp16"].intensity == pytest.approx(2 * placed["tf32"].intensity)
    assert placed["int8"].intensity == pytest.approx(2 * placed["fp16"].intensity)
    assert placed["tf32"].bound == placed["fp16"].bound == placed["int8"].bound
    assert placed["int8"].attainable == pytest.approx(2 * placed["fp16"].attainable, rel=1e-3)
    # CUDA-core FP32 has a roof so low that ResNet50 is limited by arithmetic there.
    assert placed["fp32"].bound == "compute-bound"


def test_share_below_ridge_is_consistent(layers):
    below, total, share = analysis.share_below_ridge(layers, 2, ridge=1e9)
    assert (below, total, share) == (54, 54, 1.0)
    below, total, share = analysis.share_below_ridge(layers, 2, ridge=1e-9)
    assert (below, share) == (0, 0.0)
    below, _, share = analysis.share_below_ridge(layers, 2, ridge=200.0)
    assert 0 < below < 54 and 0 < share < 1


def _gpu_doc(rates, tbps=4.0, passed=True):
    return {"provenance": {"gpu": {"name": "NVIDIA H200", "sm_count": 132}},
            "matmul": [{"dtype": d, "n": 4096, "rate": r, "check": {"passed": passed}} for d, r in rates.items()],
            "memory": {"tbps": tbps}}


def test_measured_roofs_take_the_faster_fp8_mode_and_drop_failed_checks():
    roofs = analysis.measured_roofs(_gpu_doc({"fp16": 700.0, "fp8_e4m3": 1100.0, "fp8_e4m3_fast_accum": 1300.0}))
    assert roofs.compute == {"fp16": 700.0, "fp8_e4m3": 1300.0}
    assert roofs.bandwidth_tbps == 4.0 and "NVIDIA H200" in roofs.label
    assert analysis.measured_roofs(_gpu_doc({"fp16": 700.0}, passed=False)) is None
    assert analysis.sheet_for(_gpu_doc({})).gpu == "H200 SXM"


def _write(path, doc):
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_ladder_reads_gpu_pytorch_rows_only(tmp_path):
    prov = {"date": "2026-11-22T00:00:00+00:00", "versions": {"torch": "2.11.0"},
            "gpu": {"name": "NVIDIA H200", "driver": "1", "torch_cuda": "13.0"}}
    # The shape `python -m demos.resnet50 bench` writes (demos.resnet50.bench.run).
    _write(tmp_path / "bench_gpu.json", {"stage": "bench", "backend": "torch-cuda", "provenance": prov, "results": [
        {"backend": "torch-cuda", "variant": "fp16_cl", "dtype": "fp16", "batch": 256, "images_per_s": 1000.0},
        {"backend": "torch-cuda", "variant": "broken", "batch": 256, "images_per_s": -1},
    ]})
    _write(tmp_path / "bench_ort.json", {"stage": "bench", "backend": "ort", "provenance": {**prov, "gpu": None},
                                         "results": [{"backend": "ort", "variant": "fp32", "batch": 8,
                                                      "images_per_s": 50.0}]})
    rows = analysis.resnet50_ladder(tmp_path)
    assert [(r["label"], r["batch"], r["images_per_second"]) for r in rows] == [("fp16_cl", 256, 1000.0)]
    assert "NVIDIA H200" in rows[0]["provenance"] and "2026-11-22" in rows[0]["provenance"]


def test_ladder_reads_the_committed_gpu_results():
    rows = analysis.resnet50_ladder()
    committed = json.loads((analysis.RESNET50_RESULTS / "bench_gpu_h200.json").read_text())
    assert {r["label"] for r in rows if r["file"] == "bench_gpu_h200.json"} == {r["variant"] for r in committed["results"]}


def test_ladder_of_a_missing_or_broken_folder(tmp_path):
    assert analysis.resnet50_ladder(tmp_path / "missing") == []
    (tmp_path / "zz_bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(UserError, match="not valid JSON"):
        analysis.resnet50_ladder(tmp_path)


def test_precision_steps_follow_the_roofs_not_a_fixed_factor_of_two(layers):
    """The speed page's "int8 vs fp16" / "fp8 vs int8" lines: on the datasheet INT8 is twice FP16 on the same
    side of the ridge; with measured roofs that are not in a 2:1 ratio the gain is what the roofs give, and
    the network can change sides (the page used to promise "up to twice as fast whether memory- or
    compute-bound" under a table that showed otherwise)."""
    sheet = analysis.datasheet_roofs(DATASHEETS["H200 SXM"])
    steps = {(s["new"], s["old"]): s for s in analysis.precision_steps(analysis.place_resnet50(layers, sheet), sheet)}
    assert steps[("int8", "fp16")]["compute_roof_ratio"] == pytest.approx(2, rel=1e-3)
    assert steps[("int8", "fp16")]["speedup_bound"] == pytest.approx(2, rel=1e-3)
    assert steps[("fp8", "int8")]["speedup_bound"] == pytest.approx(1, rel=1e-3)

    measured = analysis.measured_roofs(_gpu_doc({"fp16": 700.0, "int8": 900.0, "fp8_e4m3": 1200.0}, tbps=4.0))
    placed = analysis.place_resnet50(layers, measured)
    steps = {(s["new"], s["old"]): s for s in analysis.precision_steps(placed, measured)}
    int8 = steps[("int8", "fp16")]
    assert int8["compute_roof_ratio"] == pytest.approx(900 / 700)
    assert 1 < int8["speedup_bound"] <= 2
    by = {p.precision: p for p in placed}
    assert int8["bounds"] == (by["int8"].bound, by["fp16"].bound)
    assert int8["speedup_bound"] == pytest.approx(by["int8"].images_per_second / by["fp16"].images_per_second)
    assert steps[("fp8", "int8")]["compute_roof_ratio"] == pytest.approx(1200 / 900)


def test_alignment_rule_states_the_padding_cost_right():
    """Review A10: padding 63 channels to 64 on both the input and the output side of a convolution multiplies
    its arithmetic by (64/63)^2, which is the percentage the speed page must state (not 64/63)."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "gallery" / "speed" / "plot_why_low_precision_is_fast.py")
    text = " ".join(line.lstrip("# ") for line in page.read_text(encoding="utf-8").splitlines())
    stated = re.search(r"64 channels in and out cost \(64/63\)² - 1 ≈ ([\d.]+) %", text)
    assert stated, "the speed page no longer states the cost of 64 channels against 63"
    assert float(stated.group(1)) == round(((64 / 63) ** 2 - 1) * 100, 1)
