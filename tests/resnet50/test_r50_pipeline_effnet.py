"""Every stage end to end on EfficientNet-Lite0 with its real ImageNet weights, and the accuracy checks.

Numbers are on the first 200 images of the evaluation pool of ../shared/data/imagenet-samples (one image per
class, so one image is 0.5 point), calibration on 32 images of the disjoint calibration pool.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from demos import onnx_tools
from demos.resnet50 import calibration, qdq

pytestmark = pytest.mark.slow


def top1(p, variant):
    return p.result(f"eval_{variant}_ort")["top1"]


def test_fp32_accuracy_is_that_of_a_trained_model(eff):
    rec = eff.result("eval_fp32_ort")
    assert rec["real_weights"] and rec["images"] == 200
    assert rec["top1"] > 0.75  # ~84 % measured; a broken export or preprocessing lands near 0.1 %
    assert rec["agreement_top1_with_fp32"] == 1.0 and rec["rel_l2_vs_fp32"] == 0.0


def test_fp16_within_half_a_point_of_fp32(eff):
    assert top1(eff, "fp16") >= top1(eff, "fp32") - 0.005
    assert eff.result("eval_fp16_ort")["rel_l2_vs_fp32"] < 2e-2


def test_fp16_model_is_strongly_typed_with_fp32_io(eff):
    model = onnx.load(eff.path("fp16.onnx"))
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    rec = eff.result("fp16_fp16")
    assert rec["fp16_nodes"].get("Conv", 0) >= 40 and rec["casts"] >= 2


def test_int8_ptq_best_calibrator_within_two_points(eff):
    scores = {m: top1(eff, f"int8_{m}") for m in calibration.METHODS}
    best = max(scores, key=scores.get)
    print("INT8 PTQ top-1 per calibrator:", scores, "FP32:", top1(eff, "fp32"))
    assert scores[best] >= top1(eff, "fp32") - 0.02


def test_qat_result_is_reported(eff):
    rec = eff.result("qat_int8_qat")
    q, f = top1(eff, "int8_qat"), top1(eff, "fp32")
    print(f"QAT top-1 {q:.4f} vs FP32 {f:.4f}; loss {rec['loss_first']:.4f} -> {rec['loss_last']:.4f}")
    assert rec["batchnorm_frozen"] > 0 and rec["lr_schedule"] == "cosine to 1% of lr"
    assert rec["export_check"]["agreement"] >= 0.75  # ORT runs the exported Q/DQ graph like PyTorch's fake quant
    assert q >= f - 0.03


def test_cpu_int8_forms_accuracy(eff):
    """The TensorRT-scales form is within 1 point of FP32. ORT's asymmetric form needs 7-bit weights on CPUs
    without VNNI (int16 overflow otherwise), which costs it about 1.5 points on this model; with VNNI it keeps
    8 bits."""
    from demos.resnet50.cpu_int8 import has_vnni

    f = top1(eff, "fp32")
    print(f"FP32 {f:.3f}, CPU INT8 trt_scales {top1(eff, 'cpu_int8_trt_scales'):.3f}, "
          f"best {top1(eff, 'cpu_int8_best'):.3f} (VNNI: {has_vnni()})")
    assert top1(eff, "cpu_int8_trt_scales") >= f - 0.01
    assert top1(eff, "cpu_int8_best") >= f - (0.01 if has_vnni() else 0.02)


def test_cpu_forms_have_int8_weight_initializers(eff):
    for form in ("cpu_int8_trt_scales", "cpu_int8_best"):
        model = onnx.load(eff.path(f"{form}.onnx"))
        int8_inits = {i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8}
        dq_on_int8 = [n for n in model.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in int8_inits]
        assert len(dq_on_int8) >= 49, form  # every Conv weight


def test_trt_scales_form_reuses_the_tensorrt_scales(eff):
    trt = qdq.read_amax(onnx.load(eff.path("int8_max.onnx")))
    cpu = onnx.load(eff.path("cpu_int8_trt_scales.onnx"))
    from onnx import numpy_helper

    inits = {i.name: numpy_helper.to_array(i) for i in cpu.graph.initializer}
    checked = 0
    for node in cpu.graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] in trt:
            scale = float(inits[node.input[1]])
            assert scale == pytest.approx(trt[node.input[0]] / 127, rel=1e-6)
            assert int(inits[node.input[2]]) in (0, 128)
            checked += 1
    assert checked >= 40


def test_project_max_equals_modelopt_max(eff):
    check = eff.result("ptq_int8")["models"]["max"]["max_check"]
    assert check["tensors"] >= 49 and check["max_relative_difference"] < 1e-5


def test_percentile_and_mse_scales_are_the_project_calibrators(eff):
    max_amax = qdq.read_amax(onnx.load(eff.path("int8_max.onnx")))
    for method in ("percentile", "mse"):
        amax = qdq.read_amax(onnx.load(eff.path(f"int8_{method}.onnx")))
        assert amax.keys() == max_amax.keys()
        smaller = sum(amax[t] < max_amax[t] * 0.999 for t in amax)
        assert smaller >= 10, method  # they clip outliers on many tensors; max never does
        assert all(amax[t] <= max_amax[t] * (1 + 1e-6) for t in amax), method
        saved = json.loads(eff.path(f"int8_{method}.amax.json").read_text())
        assert saved["amax"] == pytest.approx(amax)
        cache = qdq.parse_calibration_cache(eff.path(f"int8_{method}.calib.cache").read_text())
        assert cache == pytest.approx(amax, rel=1e-6)


def test_calibration_cache_is_reused_and_keyed(eff, tmp_path):
    from demos import data

    items = data.split(data.discover(data.SAMPLES), "calibration", 4)
    spec = onnx_tools.spec_of(onnx.load(eff.path("fp32.onnx")))
    x, _ = data.load_array(items, spec.preprocess)
    cache = tmp_path / "act.npz"
    calls = []

    def batches():
        calls.append(1)
        yield x

    h = data.data_hash(items)
    first = calibration.collect(eff.path("fp32.onnx"), batches, cache=cache, data_hash=h, batch_size=4)
    again = calibration.collect(eff.path("fp32.onnx"), batches, cache=cache, data_hash=h, batch_size=4)
    assert not first.cached and again.cached and len(calls) == 1
    for name in first.collectors:
        assert np.array_equal(first.collectors[name].counts, again.collectors[name].counts)
    other = calibration.collect(eff.path("fp32.onnx"), batches, cache=cache, data_hash="0" * 64, batch_size=4)
    assert not other.cached and len(calls) == 2  # another data hash: recomputed


def test_every_tensorrt_onnx_builds_with_tensorrt_rtx(eff):
    rec = eff.result("build_rtx")
    built = {e["onnx"].rsplit("/", 1)[-1] for e in rec["engines"]}
    assert built == {f"{m}.onnx" for m in ("fp32", "fp16", "int8_max", "int8_entropy", "int8_percentile",
                                           "int8_mse", "int8_qat")}
    for e in rec["engines"]:
        assert e["plan_bytes"] > 1e6 and e["profile"] == [1, 32, 256]
        assert (eff.root / "engines" / f"{e['onnx'].rsplit('/', 1)[-1][:-5]}.rtx.plan").stat().st_size == e["plan_bytes"]


def test_ort_bench_and_report(eff):
    bench = eff.result("bench_ort")
    assert {r["variant"] for r in bench["results"]} == {"fp32", "cpu_int8_trt_scales", "cpu_int8_best"}
    assert all(r["op_profile"]["kernel_ms_per_batch"]["dense convolution"] > 0 for r in bench["results"])
    assert all(r["images_per_s"] > 0 and r["latency_ms"]["p50"] > 0 for r in bench["results"])
    rep = json.loads(eff.path("report.json").read_text())
    assert rep["real_weights"] and rep["accuracy_note"] is None
    rows = {r["variant"]: r for r in rep["rows"]}
    assert rows["fp32"]["top1"] == top1(eff, "fp32")
    md = eff.path("report.md").read_text()
    assert "efficientnet_lite0" in md and "cpu: " in md and "onnxruntime: " in md
    assert eff.path("report.png").stat().st_size > 10_000
