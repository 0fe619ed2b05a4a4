"""A tiny residual network, as FP32 ONNX and as a TensorRT-style Q/DQ model, for the debugging tests.

    x -> Conv c1 (+bias) -> ReLU6 -> Conv c2 -> Add(x) -> ReduceMean -> Reshape -> Gemm classifier

The Q/DQ model quantizes what ModelOpt quantizes on EfficientNet-Lite0: the inputs and per-channel weights
of every weighted layer, the skip connection through the same Q/DQ as ``c1``'s input. Channel 0 of ``c1``
is nearly dead (weights ~1e-9) with a large bias, like the BatchNorm-folded channels of the real model.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(0)


def _weights():
    w1 = RNG.normal(0, 0.5, (4, 2, 1, 1)).astype(np.float32)
    w1[0] = 1e-9  # a dead channel: tiny weight scale
    b1 = np.array([-5.0, 0.1, 0.2, 0.3], np.float32)
    w2 = RNG.normal(0, 0.5, (2, 4, 1, 1)).astype(np.float32)
    wg = RNG.normal(0, 0.5, (3, 2)).astype(np.float32)
    return w1, b1, w2, wg


def _model(nodes, inits, outputs):
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2, 4, 4])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=10)


def _common_inits(w1, b1, w2, wg):
    return [numpy_helper.from_array(w1, "c1.weight"), numpy_helper.from_array(b1, "c1.bias"),
            numpy_helper.from_array(w2, "c2.weight"), numpy_helper.from_array(wg.T.copy(), "classifier.weight"),
            numpy_helper.from_array(np.float32(0), "lo"), numpy_helper.from_array(np.float32(6), "hi"),
            numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
            numpy_helper.from_array(np.array([-1, 2], np.int64), "shape")]


def fp32_model(outputs=("logits",)):
    w1, b1, w2, wg = _weights()
    nodes = [helper.make_node("Conv", ["x", "c1.weight", "c1.bias"], ["c1_out"], name="c1"),
             helper.make_node("Clip", ["c1_out", "lo", "hi"], ["relu6"], name="act"),
             helper.make_node("Conv", ["relu6", "c2.weight"], ["c2_out"], name="c2"),
             helper.make_node("Add", ["c2_out", "x"], ["sum"], name="add"),
             helper.make_node("ReduceMean", ["sum", "axes"], ["pooled"], keepdims=0, name="pool"),
             helper.make_node("Reshape", ["pooled", "shape"], ["flat"], name="flatten"),
             helper.make_node("Gemm", ["flat", "classifier.weight"], ["logits"], name="classifier")]
    return _model(nodes, _common_inits(w1, b1, w2, wg), outputs)


def qdq_model(outputs=("logits",)):
    w1, b1, w2, wg = _weights()
    inits = _common_inits(w1, b1, w2, wg)
    nodes = []

    def act_qdq(tensor, amax):
        inits.extend([numpy_helper.from_array(np.float32(amax / 127), f"{tensor}_scale"),
                      numpy_helper.from_array(np.int8(0), f"{tensor}_zp")])
        nodes.append(helper.make_node("QuantizeLinear", [tensor, f"{tensor}_scale", f"{tensor}_zp"], [f"{tensor}_q"]))
        nodes.append(helper.make_node("DequantizeLinear", [f"{tensor}_q", f"{tensor}_scale", f"{tensor}_zp"],
                                      [f"{tensor}_dq"]))
        return f"{tensor}_dq"

    def weight_qdq(name, w, axis=0):
        amax = np.abs(w).reshape(w.shape[axis], -1).max(1) if axis == 0 else np.abs(w).max(0)
        inits.extend([numpy_helper.from_array((amax / 127).astype(np.float32), f"{name}_scale"),
                      numpy_helper.from_array(np.zeros(amax.shape, np.int8), f"{name}_zp")])
        nodes.append(helper.make_node("QuantizeLinear", [name, f"{name}_scale", f"{name}_zp"], [f"{name}_q"], axis=axis))
        nodes.append(helper.make_node("DequantizeLinear", [f"{name}_q", f"{name}_scale", f"{name}_zp"],
                                      [f"{name}_dq"], axis=axis))
        return f"{name}_dq"

    x = act_qdq("x", 3.0)
    nodes.append(helper.make_node("Conv", [x, weight_qdq("c1.weight", w1), "c1.bias"], ["c1_out"], name="c1"))
    nodes.append(helper.make_node("Clip", ["c1_out", "lo", "hi"], ["relu6"], name="act"))
    r = act_qdq("relu6", 6.0)
    nodes.append(helper.make_node("Conv", [r, weight_qdq("c2.weight", w2)], ["c2_out"], name="c2"))
    nodes.append(helper.make_node("Add", ["c2_out", x], ["sum"], name="add"))  # skip through x's Q/DQ
    nodes.append(helper.make_node("ReduceMean", ["sum", "axes"], ["pooled"], keepdims=0, name="pool"))
    nodes.append(helper.make_node("Reshape", ["pooled", "shape"], ["flat"], name="flatten"))
    f = act_qdq("flat", 8.0)
    nodes.append(helper.make_node("Gemm", [f, weight_qdq("classifier.weight", wg.T.copy(), axis=1)], ["logits"],
                                  name="classifier"))
    return _model(nodes, inits, outputs)


@pytest.fixture
def tiny(tmp_path):
    fp32, q = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    onnx.save(fp32_model(), str(fp32))
    onnx.save(qdq_model(), str(q))
    x = RNG.uniform(-2, 2, (2, 2, 4, 4)).astype(np.float32)
    return {"fp32": fp32, "int8": q, "x": x, "dir": tmp_path}
