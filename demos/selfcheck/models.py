"""Tiny ONNX models for the self-check, written with ``onnx.helper`` (no PyTorch, no ModelOpt: seconds).

``classifier``: image (N x 3 x 16 x 16 float32, dynamic N) -> Conv 3x3 (8 channels) -> ReLU ->
GlobalAveragePool -> Flatten -> Gemm -> logits (N x 10).  Three forms of the same weights:

* ``fp32``: as above;
* ``fp16``: strongly typed FP16 inside, FP32 at the inputs and outputs (Casts), as ModelOpt AutoCast's
  ``keep_io_types`` writes it;
* ``int8``: explicit quantization, TensorRT's way: symmetric per-tensor Q/DQ on the two activations that
  feed the Conv and the Gemm (scales from a calibration batch), per-output-channel INT8 weights with a
  DequantizeLinear.

:func:`reference` computes the FP32 model in NumPy, so a comparison exists even without ONNX Runtime.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SHAPE = (3, 16, 16)
CLASSES = 10
CHANNELS = 8
SEED = 0
QMAX = 127.0


def weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)
    return {"conv_w": (rng.standard_normal((CHANNELS, 3, 3, 3)) * 0.3).astype(np.float32),
            "conv_b": (rng.standard_normal(CHANNELS) * 0.1).astype(np.float32),
            "fc_w": (rng.standard_normal((CLASSES, CHANNELS)) * 0.5).astype(np.float32),
            "fc_b": (rng.standard_normal(CLASSES) * 0.1).astype(np.float32)}


def inputs(batch: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, *SHAPE)).astype(np.float32)


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))  # N, C, H, W, 3, 3
    return np.einsum("nchwij,ocij->nohw", windows, w, dtype=np.float64).astype(np.float32) + b[None, :, None, None]


def reference(x: np.ndarray) -> np.ndarray:
    """The FP32 classifier in NumPy (float64 accumulation)."""
    w = weights()
    pooled = np.maximum(_conv(x, w["conv_w"], w["conv_b"]), 0).mean(axis=(2, 3))
    return pooled @ w["fc_w"].T + w["fc_b"]


def _pooled(x: np.ndarray) -> np.ndarray:
    w = weights()
    return np.maximum(_conv(x, w["conv_w"], w["conv_b"]), 0).mean(axis=(2, 3))


def _model(nodes, inits, in_type, out_type, name: str, opset: int = 17):
    import onnx
    from onnx import helper

    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("image", in_type, ["batch", *SHAPE])],
        [helper.make_tensor_value_info("logits", out_type, ["batch", CLASSES])],
        inits)  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="demos.selfcheck")
    onnx.checker.check_model(model)
    return model


def _init(name, array):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.ascontiguousarray(array), name)


def classifier(kind: str = "fp32", calibration: np.ndarray | None = None):
    """The tiny classifier as an ``onnx.ModelProto``: ``kind`` is fp32, fp16 or int8."""
    from onnx import TensorProto, helper

    w = weights()
    if kind == "fp32":
        nodes = [helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1]),
                 helper.make_node("Relu", ["conv"], ["relu"]),
                 helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
                 helper.make_node("Flatten", ["pool"], ["flat"]),
                 helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1)]
        inits = [_init(k, v) for k, v in w.items()]
        return _model(nodes, inits, TensorProto.FLOAT, TensorProto.FLOAT, "selfcheck_fp32")
    if kind == "fp16":
        nodes = [helper.make_node("Cast", ["image"], ["image16"], to=TensorProto.FLOAT16),
                 helper.make_node("Conv", ["image16", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1]),
                 helper.make_node("Relu", ["conv"], ["relu"]),
                 helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
                 helper.make_node("Flatten", ["pool"], ["flat"]),
                 helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits16"], transB=1),
                 helper.make_node("Cast", ["logits16"], ["logits"], to=TensorProto.FLOAT)]
        inits = [_init(k, v.astype(np.float16)) for k, v in w.items()]
        return _model(nodes, inits, TensorProto.FLOAT, TensorProto.FLOAT, "selfcheck_fp16")
    if kind == "int8":
        x = inputs(16, seed=7) if calibration is None else calibration
        a_in = float(np.abs(x).max())
        a_pool = float(np.abs(_pooled(x)).max())

        def per_channel(weight, axis=0):
            amax = np.abs(weight).reshape(weight.shape[0], -1).max(axis=1)
            scale = (np.maximum(amax, 1e-8) / QMAX).astype(np.float32)
            shape = [-1] + [1] * (weight.ndim - 1)
            q = np.clip(np.round(weight / scale.reshape(shape)), -127, 127).astype(np.int8)
            return q, scale

        conv_q, conv_s = per_channel(w["conv_w"])
        fc_q, fc_s = per_channel(w["fc_w"])
        zero = np.int8(0)
        nodes = [
            helper.make_node("QuantizeLinear", ["image", "in_scale", "zp"], ["image_q"]),
            helper.make_node("DequantizeLinear", ["image_q", "in_scale", "zp"], ["image_dq"]),
            helper.make_node("DequantizeLinear", ["conv_wq", "conv_ws", "conv_zp"], ["conv_w"], axis=0),
            helper.make_node("Conv", ["image_dq", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["conv"], ["relu"]),
            helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
            helper.make_node("Flatten", ["pool"], ["flat"]),
            helper.make_node("QuantizeLinear", ["flat", "pool_scale", "zp"], ["flat_q"]),
            helper.make_node("DequantizeLinear", ["flat_q", "pool_scale", "zp"], ["flat_dq"]),
            helper.make_node("DequantizeLinear", ["fc_wq", "fc_ws", "fc_zp"], ["fc_w"], axis=0),
            helper.make_node("Gemm", ["flat_dq", "fc_w", "fc_b"], ["logits"], transB=1),
        ]
        inits = [_init("in_scale", np.float32(a_in / QMAX)), _init("pool_scale", np.float32(a_pool / QMAX)),
                 _init("zp", zero), _init("conv_wq", conv_q), _init("conv_ws", conv_s),
                 _init("conv_zp", np.zeros(CHANNELS, np.int8)), _init("conv_b", w["conv_b"]),
                 _init("fc_wq", fc_q), _init("fc_ws", fc_s), _init("fc_zp", np.zeros(CLASSES, np.int8)),
                 _init("fc_b", w["fc_b"])]
        return _model(nodes, inits, TensorProto.FLOAT, TensorProto.FLOAT, "selfcheck_int8")
    raise ValueError(f"unknown kind {kind!r}: fp32, fp16 or int8")


def save(model, path: Path) -> Path:
    import onnx

    from demos import files

    with files.atomic_path(path, suffix=".onnx") as tmp:
        onnx.save(model, str(tmp))
    return Path(path)


def onnxruntime_outputs(path: Path, x: np.ndarray) -> np.ndarray | None:
    """The model's output under ONNX Runtime (CPU), or None if ONNX Runtime is not installed."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def compare(out: np.ndarray, ref: np.ndarray) -> dict:
    """Max absolute error and top-1 agreement of two logit arrays (N x classes)."""
    out = np.asarray(out, np.float32).reshape(ref.shape)
    return {"max_abs_err": float(np.abs(out - ref).max()),
            "top1_agreement": float((out.argmax(axis=1) == ref.argmax(axis=1)).mean())}
