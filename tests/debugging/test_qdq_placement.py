"""Counting and drawing Q/DQ placement, and the int32 bias overflow that ONNX Runtime really has (issue 17)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from demos import onnx_tools, qdq_placement

from .conftest import qdq_model


def test_counts_on_the_tiny_qdq_model(tiny):
    model = onnx_tools.load(tiny["int8"])
    assert qdq_placement.activation_sources(model) == {"model input": 1, "ReLU6": 1, "Reshape": 1}
    layers = {L.name: L for L in qdq_placement.layers(model)}
    assert set(layers) == {"c1", "c2", "classifier"}
    assert all(L.int8 for L in layers.values())
    assert (layers["c1"].activation, layers["c1"].output) == ("ReLU6", "INT8")
    assert (layers["c2"].activation, layers["c2"].output) == (None, "Add")
    assert layers["classifier"].output == "model output"
    (add,) = qdq_placement.residual_adds(model)
    assert [(i["quantized"], i["from"]) for i in add["inputs"]] == [(False, "Conv"), (True, "model input")]


def test_an_unquantized_layer_is_not_int8(tiny):
    model = onnx_tools.load(tiny["fp32"])
    assert not any(L.int8 for L in qdq_placement.layers(model))
    assert qdq_placement.activation_sources(model) == {}


def test_kernels_follow_the_fusion_rules(tiny):
    model = onnx_tools.load(tiny["int8"])
    nodes = qdq_placement.chain_before(model, "sum")
    assert [n.op_type for n in nodes] == ["QuantizeLinear", "DequantizeLinear", "Conv", "Clip", "QuantizeLinear",
                                          "DequantizeLinear", "Conv", "Add"]
    labels = [k[2] for k in qdq_placement.kernels(model, nodes)]
    # c1+ReLU6 ends in a Q: INT8 out; c2 takes in the Add because the skip arrives through Q/DQ, and with no
    # Q after the Add (the pool reads it) the fused kernel writes float.
    assert labels == ["quantize", "INT8 Conv + ReLU6\n-> INT8", "INT8 Conv + Add\n-> float"]


def test_draw_chain_draws_every_node(tiny):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    drawn = qdq_placement.draw_chain(ax, onnx_tools.load(tiny["int8"]), "sum")
    plt.close(fig)
    assert drawn == {"nodes": 8, "kernels": 3, "int8_out": 1, "float_out": 1}


def test_int32_bias_overflow_is_what_onnx_runtime_does(tiny):
    """The channel the analysis flags is exactly the one ONNX Runtime's optimizer gets wrong."""
    import onnxruntime as ort

    flagged = qdq_placement.int32_bias_overflow(onnx_tools.load(tiny["int8"]))
    assert [(f["layer"], f["channels"]) for f in flagged] == [("c1", [0])]
    path = tiny["dir"] / "int8_c1.onnx"
    onnx.save(qdq_model(outputs=("c1_out",)), str(path))
    out = {}
    for level in ("ORT_DISABLE_ALL", "ORT_ENABLE_BASIC"):
        opts = ort.SessionOptions()
        opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        out[level] = sess.run(None, {"x": tiny["x"]})[0]
    exact, optimized = out["ORT_DISABLE_ALL"], out["ORT_ENABLE_BASIC"]
    assert np.allclose(exact[:, 0], -5.0, atol=1e-3)  # as written: the bias, in float
    assert np.abs(optimized[:, 0] - exact[:, 0]).min() > 1.0  # saturated int32 bias
    np.testing.assert_allclose(optimized[:, 1:], exact[:, 1:], rtol=1e-4, atol=1e-4)
