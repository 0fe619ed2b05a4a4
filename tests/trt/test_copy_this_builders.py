"""The "Copy this" builders of the FP16, INT8 and QAT pages build any model the pages invite a reader to
bring: a static-shape ONNX file (no profile may be added) and one with several dynamic inputs (each needs
its shapes in the profile).  The functions are taken from the gallery scripts as they are printed and built
with TensorRT-RTX, which has the same Python API for these calls and builds on a CPU."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parents[2]
BUILDERS = [
    ("gallery/fp16/plot_fp16_engines.py", "build_fp16_engine"),
    ("gallery/int8/plot_int8_ptq.py", "build_int8_engine"),
    ("gallery/qat/plot_qat.py", "build_int8_engine"),
]


def _function(script: str, name: str):
    """The top-level function ``name`` of a gallery script, defined on its own (imports: Path only)."""
    tree = ast.parse((ROOT / script).read_text(encoding="utf-8"))
    [node] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    namespace = {"Path": Path}
    exec(compile(ast.Module([node], type_ignores=[]), script, "exec"), namespace)
    return namespace[name]


def _model(path: Path, batch) -> None:
    """Two inputs (image and a per-channel bias) added and passed through a convolution."""
    w = np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Add", ["input", "bias"], ["x"]),
         helper.make_node("Conv", ["x", "w"], ["logits"], pads=[1, 1, 1, 1])],
        "two_inputs",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, 8, 8]),
         helper.make_tensor_value_info("bias", TensorProto.FLOAT, [batch, 3, 1, 1])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 4, 8, 8])],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel())])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


@pytest.mark.parametrize("script, name", BUILDERS, ids=[s.split("/")[1] for s, _ in BUILDERS])
@pytest.mark.parametrize("batch", [1, "batch"], ids=["static", "dynamic"])
def test_builder_takes_static_and_multi_input_models(script, name, batch, tmp_path, monkeypatch):
    rtx = pytest.importorskip("tensorrt_rtx_bindings")
    monkeypatch.setitem(sys.modules, "tensorrt", rtx)
    build = _function(script, name)
    onnx_path, plan_path = tmp_path / "model.onnx", tmp_path / "model.plan"
    _model(onnx_path, batch)
    build(str(onnx_path), str(plan_path))
    assert plan_path.stat().st_size > 1000
