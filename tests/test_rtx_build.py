"""demos.trt.rtx_build: a TensorRT-RTX plan from a real ONNX model, with paths relative to the caller."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from demos.trt import rtx_build


def _conv_model(path) -> None:
    w = np.random.default_rng(0).standard_normal((8, 3, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input", "w"], ["y"], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["y"], ["logits"])],
        "conv", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 8, 16, 16])],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel())])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_relative_paths_are_the_callers(tmp_path, monkeypatch):
    pytest.importorskip("tensorrt_rtx_bindings")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    _conv_model(tmp_path / "models" / "conv.onnx")
    info = rtx_build.build_plan("models/conv.onnx", "models/conv.plan", min_batch=1, opt_batch=2, max_batch=4)
    plan = tmp_path / "models" / "conv.plan"
    assert plan.stat().st_size > 1000 and info["plan"] == str(plan)
    assert not list(tmp_path.glob("models/.conv.plan*")), "a temporary file was left behind"


def test_a_missing_model_is_a_one_line_error(tmp_path, monkeypatch):
    pytest.importorskip("tensorrt_rtx_bindings")
    from demos.errors import UserError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as err:
        rtx_build.build_plan("nope.onnx", "nope.plan")
    assert "\n" not in str(err.value) and not (tmp_path / "nope.plan").exists()
