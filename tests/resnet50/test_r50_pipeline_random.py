"""Every stage on ResNet50 with random weights: a pipeline check, labelled so everywhere."""

from __future__ import annotations

import json

import onnx
import pytest

from demos import onnx_tools

pytestmark = pytest.mark.slow


def test_random_weights_are_labelled_in_every_file(r50):
    for name in ("fp32", "fp16", "int8_max", "int8_qat", "cpu_int8_trt_scales", "cpu_int8_best"):
        spec = onnx_tools.spec_of(onnx.load(r50.path(f"{name}.onnx")))
        assert spec.weights == "random" and not spec.real_weights
        assert "pipeline check" in spec.weights_label


def test_no_accuracy_for_random_weights(r50):
    for f in (r50.root / "results").glob("eval_*.json"):
        rec = json.loads(f.read_text())
        assert rec["top1"] is None and rec["top5"] is None, f.name
        assert "random weights" in rec["accuracy_note"]
        assert rec["agreement_top1_with_fp32"] is not None  # numerics are still checked
    rep = json.loads(r50.path("report.json").read_text())
    assert not rep["real_weights"] and all(r.get("top1") is None for r in rep["rows"])
    md = r50.path("report.md").read_text()
    assert "Pipeline check with random weights" in md and "n/a (random)" in md


def test_dynamic_batch_axis(r50):
    model = onnx.load(r50.path("fp32.onnx"))
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    assert set(r50.result("export_fp32")["check"]) == {"batch1_rel_l2", "batch3_rel_l2"}


def test_conversions_reproduce_fp32_numerics(r50):
    assert r50.result("eval_fp16_ort")["rel_l2_vs_fp32"] < 1e-2
    assert r50.result("eval_int8_max_ort")["rel_l2_vs_fp32"] < 0.1
    assert r50.result("eval_int8_max_ort")["execution"].startswith("Q/DQ emulated")


def test_rtx_plans_with_profile(r50):
    rec = r50.result("build_rtx")
    names = {e["onnx"].rsplit("/", 1)[-1] for e in rec["engines"]}
    assert names == {"fp32.onnx", "fp16.onnx", "int8_max.onnx", "int8_qat.onnx"}
    assert all(e["profile"] == [1, 8, 16] for e in rec["engines"])


def test_build_is_cached_until_the_onnx_changes(r50, capsys):
    assert r50.run("build", "--max-batch", "16", "--opt-batch", "8", "--models", "fp32") == 0
    assert "up to date" in capsys.readouterr().out
    assert r50.run("build", "--max-batch", "32", "--opt-batch", "8", "--models", "fp32") == 0  # other profile
    assert "fp32.onnx -> fp32.rtx.plan" in capsys.readouterr().out


def test_qat_stage_quantizes_the_residual_adds_like_ptq(r50):
    """D8 (issue 14): the ``qat`` stage calibrated without ``residual=True``, so none of ResNet50's 16 residual
    adds had Q/DQ on an input, unlike the PTQ model: the two INT8 engines were not comparable."""
    from demos.resnet50 import qat

    assert r50.result("qat_int8_qat")["residual_quantizers"] is True
    qat_adds = qat.add_inputs(onnx.load(r50.path("int8_qat.onnx")))
    ptq_adds = qat.add_inputs(onnx.load(r50.path("int8_max.onnx")))
    assert len(qat_adds) == len(ptq_adds) == 16
    for rows in (qat_adds, ptq_adds):
        assert all(any(i["quantized"] for i in r["inputs"]) for r in rows)
