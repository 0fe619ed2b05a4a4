"""The FP16 helpers the FP16 page uses: AutoCast's reasons and warnings, per-tensor outputs and ranges,
weight statistics, the conversion cache, and the network precisions of TensorRT-RTX builds.

The model tests reuse the session's EfficientNet-Lite0 pipeline (real ImageNet weights, ``conftest.eff``).
"""

from __future__ import annotations

import logging

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from demos import data, models, onnx_tools
from demos.resnet50 import fp16


def _l2_normalize_graph(c: int, h: int, w: int, reduce_op: str = "ReduceSumSquare") -> onnx.ModelProto:
    nodes = [helper.make_node(reduce_op, ["x", "axes"], ["r"], name="reduce", keepdims=1),
             helper.make_node("Sqrt", ["r"], ["norm"], name="norm"),
             helper.make_node("Div", ["x", "norm"], ["y"], name="normalize")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", c, h, w])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", c, h, w])],
                              [numpy_helper.from_array(np.array([1, 2, 3], dtype=np.int64), "axes")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=10)


def test_autocast_keeps_an_overflowing_sum_in_fp32_and_says_why():
    x = np.random.default_rng(0).uniform(0, 6, size=(2, 128, 7, 7)).astype(np.float32)  # ReLU6-like features
    assert (x.astype(np.float64) ** 2).sum(axis=(1, 2, 3)).min() > 65504  # overflows FP16 as a sum
    out = fp16.autocast_on_graph(_l2_normalize_graph(128, 7, 7), {"x": x})
    assert "reduce (ReduceSumSquare)" in out["fp32_nodes"]
    assert "out of range" in out["fp32_reasons"]["reduce"] and "range=[-512" in out["fp32_reasons"]["reduce"]
    assert set(out["fp32_reasons"]) == {n.split(" (")[0] for n in out["fp32_nodes"]}


def test_autocast_converts_the_same_graph_with_a_mean_to_fp16():
    x = np.random.default_rng(0).uniform(0, 6, size=(2, 128, 7, 7)).astype(np.float32)
    # mean of squares ~12, sqrt ~3.5, x / norm < 2: everything stays within data_max
    graph = _l2_normalize_graph(128, 7, 7)
    graph.graph.node[0].op_type = "ReduceMean"
    sq = helper.make_node("Mul", ["x", "x"], ["x2"], name="square")
    graph.graph.node[0].input[0] = "x2"
    graph.graph.node.insert(0, sq)
    out = fp16.autocast_on_graph(graph, {"x": x})
    assert out["fp32_nodes"] == [] and out["fp32_reasons"] == {}
    assert out["fp16_nodes"] == {"Mul": 1, "ReduceMean": 1, "Sqrt": 1, "Div": 1}


def test_autocast_decisions_restores_modelopt_logging():
    from modelopt.onnx.autocast.logging_config import logger

    parent = logging.getLogger("modelopt.onnx")
    before = [(lg.handlers[:], lg.level, lg.propagate) for lg in (logger, parent)]
    with fp16.autocast_decisions() as log:
        logger.info("Skipping node n1: some rule")
        logger.warning("values will be replaced")
        parent.warning("values will be replaced")  # the same warning from the parent is kept once
    assert log.reasons == {"n1": "some rule"} and log.warnings == ["values will be replaced"]
    assert [(lg.handlers[:], lg.level, lg.propagate) for lg in (logger, parent)] == before


def test_weight_stats_counts_what_fp16_cannot_hold(tmp_path):
    w = np.array([0.0, 1e-9, -1e-5, 0.5, -7e4], dtype=np.float32)
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [5])],
                              [numpy_helper.from_array(w, "w")])
    onnx.save(helper.make_model(graph), tmp_path / "m.onnx")
    assert fp16.weight_stats(tmp_path / "m.onnx") == {"values": 5, "absmax": 7e4, "above_fp16_max": 1,
                                                      "subnormal": 2, "below_smallest_subnormal": 1}


def test_range_stats_and_relative_errors_on_known_arrays():
    a = np.array([0.0, 1e-6, 1e-9, 3.0, -100.0], dtype=np.float32)
    (row,) = fp16.range_stats({"t": a})
    assert row["absmax"] == 100.0
    assert row["subnormal_share"] == pytest.approx(2 / 4) and row["flush_share"] == pytest.approx(1 / 4)
    ref = {"t": np.ones(4, np.float32), "u": np.arange(3, dtype=np.float32)}
    errs = dict(fp16.relative_errors(ref, {"t": np.full(4, 1.01, np.float32), "missing": ref["u"]}))
    assert errs == {"t": pytest.approx(0.01, rel=1e-5)}


@pytest.mark.slow
def test_tensor_outputs_match_the_model_and_respect_relu6(eff):
    path = eff.path("fp32.onnx")
    spec = onnx_tools.spec_of(onnx_tools.load(path))
    x, _ = data.load_array(data.split(data.discover(data.SAMPLES), "calibration", 2), spec.preprocess)
    outs = fp16.tensor_outputs(path, x)
    logits = onnx_tools.run(onnx_tools.session(path), x)
    assert np.allclose(outs["logits"], logits, atol=1e-5)
    model = onnx_tools.load(path)
    clips = [n.output[0] for n in model.graph.node if n.op_type == "Clip"]
    assert len(clips) > 20 and all(outs[c].max() <= 6.0 and outs[c].min() >= 0.0 for c in clips)
    assert set(fp16.tensor_outputs(path, x, names=clips[:2])) == set(clips[:2])


@pytest.mark.slow
def test_strict_threshold_keeps_the_large_tensors_in_fp32_and_caches(eff, tmp_path):
    path = eff.path("fp32.onnx")
    x, _ = data.load_array(data.split(data.discover(data.SAMPLES), "calibration", 4), models.HALF_MEAN_STD)
    out = tmp_path / "strict.onnx"
    rec = fp16.convert_cached(path, out, x, "data-4", data_max=32.0)
    assert rec["fp32_nodes"] and len(rec["fp32_reasons"]) == len(rec["fp32_nodes"])
    assert all("out of range" in r and "range=[-32.0, 32.0]" in r for r in rec["fp32_reasons"].values())
    # the ranges AutoCast saw are the ranges of the real tensors
    tensors = fp16.tensor_outputs(path, x)
    big = {t for t, a in tensors.items() if np.abs(a).max() > 32.0}
    producers = {n.name for n in onnx_tools.load(path).graph.node if set(n.output) & big}
    assert producers <= set(rec["fp32_reasons"])
    stamp = out.stat().st_mtime_ns
    again = fp16.convert_cached(path, out, x, "data-4", data_max=32.0)
    assert again["cached"] and out.stat().st_mtime_ns == stamp
    assert "cached" not in fp16.convert_cached(path, out, x, "data-4", data_max=64.0)


@pytest.mark.slow
def test_rtx_builds_record_the_network_precisions(eff):
    engines = {e["onnx"].rsplit("/", 1)[-1]: e for e in eff.result("build_rtx")["engines"]}
    assert set(engines["fp32.onnx"]["network"]["precision_counts"]) == {"FP32"}
    fp16_counts = engines["fp16.onnx"]["network"]["precision_counts"]
    assert fp16_counts.get("FP16", 0) >= 90  # every conv, activation, add: AutoCast kept nothing here
    assert fp16_counts.get("FP32", 0) == len(engines["fp16.onnx"]["network"]["fp32_layers"])
