"""demos.resnet50.ort_profile: ONNX Runtime's profiler, read per operator kind, on a small real model."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from demos.resnet50 import ort_profile


def conv_model(path, c=16, hw=32):
    """Dense 3x3 conv -> ReLU6 (Clip) -> depthwise 3x3 conv: one node of each kind the profile separates."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((c, 3, 3, 3)).astype(np.float32), "w_dense"),
             numpy_helper.from_array(rng.standard_normal((c, 1, 3, 3)).astype(np.float32), "w_dw"),
             numpy_helper.from_array(np.array(0, np.float32), "lo"), numpy_helper.from_array(np.array(6, np.float32), "hi")]
    nodes = [helper.make_node("Conv", ["x", "w_dense"], ["a"], name="dense", pads=[1, 1, 1, 1]),
             helper.make_node("Clip", ["a", "lo", "hi"], ["b"], name="relu6"),
             helper.make_node("Conv", ["b", "w_dw"], ["y"], name="dw", group=c, pads=[1, 1, 1, 1])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, hw, hw])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", c, hw, hw])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_profile_separates_dense_and_depthwise_convolutions(tmp_path):
    path = conv_model(tmp_path / "m.onnx")
    prof = ort_profile.profile(path, batch=2, threads=1, runs=3, optimization="basic")
    ms = prof["kernel_ms_per_batch"]
    assert list(ms) == list(ort_profile.KINDS)
    assert ms["dense convolution"] > 0 and ms["depthwise convolution"] > 0 and ms["Clip"] > 0
    assert ms["quantize / dequantize"] == 0
    assert prof["unclassified_nodes"] == []
    assert abs(sum(prof["kernel_ms_per_batch_by_op"].values()) - sum(ms.values())) < 1e-2
    # at full optimization ONNX Runtime fuses the Clip into the dense Conv: the fused node is still dense
    fused = ort_profile.profile(path, batch=2, threads=1, runs=3, optimization="all")
    assert fused["kernel_ms_per_batch"]["Clip"] == 0 and fused["kernel_ms_per_batch"]["depthwise convolution"] > 0
    assert fused["kernel_ms_per_batch"]["dense convolution"] > 0 and fused["unclassified_nodes"] == []


def test_kernel_times_sums_kernel_events_only():
    trace = [{"cat": "Node", "name": "dense_kernel_time", "dur": 5, "args": {"op_name": "Conv"}},
             {"cat": "Node", "name": "dense_fence_before", "dur": 7, "args": {"op_name": "Conv"}},
             {"cat": "Node", "name": "dense_kernel_time", "dur": 3, "args": {"op_name": "Conv"}},
             {"cat": "Session", "name": "model_run", "dur": 100}]
    assert ort_profile.kernel_times(trace) == {"dense": 8}
