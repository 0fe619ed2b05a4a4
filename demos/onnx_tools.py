"""Loading, saving and running ONNX files, with the demo's metadata carried along.

Every ONNX file the demo writes records which model and weights it came from (``demo.*`` metadata
properties), so later stages label their results correctly even when given only the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from demos import files
from demos.errors import UserError
from demos.models import ModelSpec


def load(path: str | os.PathLike, what: str = "ONNX model"):
    import onnx

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} not found: {path} (run the stage that writes it first)")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # DecodeError, protobuf errors
        raise UserError(f"{path} is not a valid ONNX file ({exc.__class__.__name__}); re-create it") from None
    if not model.graph.node:
        raise UserError(f"{path} holds an empty ONNX graph; re-create it")
    return model


def metadata(model) -> dict[str, str]:
    return {p.key: p.value for p in model.metadata_props}


def spec_of(model, path: str | os.PathLike = "model") -> ModelSpec:
    try:
        return ModelSpec.from_metadata(metadata(model))
    except (KeyError, ValueError):
        raise UserError(f"{path} was not written by this demo (no demo.* metadata); export it with "
                        "`python -m demos.resnet50 export`") from None


def set_metadata(model, values: dict[str, str]) -> None:
    existing = {p.key: p for p in model.metadata_props}
    for k, v in values.items():
        if k in existing:
            existing[k].value = v
        else:
            p = model.metadata_props.add()
            p.key, p.value = k, v


def save(model, path: str | os.PathLike) -> Path:
    """Save atomically as a single file (weights inline; all demo models are far below 2 GB)."""
    import onnx

    with files.atomic_path(path, suffix=".onnx") as tmp:
        onnx.save(model, str(tmp))
    return Path(path)


def input_name(model) -> str:
    inits = {i.name for i in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in inits]
    if len(names) != 1:
        raise UserError(f"expected one image input, the model has {len(names)}: {names}")
    return names[0]


def session(path: str | os.PathLike, threads: int | None = None, optimization: str = "all"):
    """An ONNX Runtime CPU session (the reference backend for numerics and accuracy)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    opts.graph_optimization_level = {"all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
                                     "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC}[optimization]
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise UserError(f"ONNX Runtime cannot load {path}: {str(exc).splitlines()[0][:200]}") from None


def run(sess, x: np.ndarray) -> np.ndarray:
    inp = sess.get_inputs()[0]
    expected = inp.shape
    if x.ndim != len(expected) or any(isinstance(e, int) and e != s for e, s in zip(expected, x.shape)):
        raise UserError(f"input shape {list(x.shape)} does not fit the model's input {inp.name} {expected}")
    return sess.run(None, {inp.name: x.astype(np.float32, copy=False)})[0]
