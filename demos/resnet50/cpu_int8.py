"""CPU-deployable INT8 forms for ONNX Runtime, next to the TensorRT Q/DQ model.

Why a separate form at all: ModelOpt's Q/DQ model keeps FP32 weights behind QuantizeLinear/DequantizeLinear
(TensorRT folds them at build time). ONNX Runtime on CPU runs such a model by emulation, slower than FP32.
Real CPU INT8 speed needs int8 weight initializers (``DequantizeLinear`` on int8 weights) and quantized
tensors around every operator, which ORT fuses into integer kernels (QLinearConv, QLinearAdd, ...).

Two forms, both written by ``onnxruntime.quantization.quantize_static`` in QDQ format:

``trt_scales``
    Reuses the TensorRT calibration: every activation gets TensorRT's symmetric scale ``amax / 127``.
    ORT's fast x86 kernels take uint8 activations (``u8 x s8`` dot products), so the symmetric int8 range is
    carried as uint8: zero point 128 for signed tensors, and zero point 0 for the outputs of ReLU/Clip(0, .)
    and their inputs (non-negative by construction; with zero point 0, ORT folds the ReLU into the
    quantization, which is exactly TensorRT's Conv+ReLU fusion). Weights are TensorRT's: int8,
    per output channel, ``max|w| / 127`` (7-bit for dense convolutions on CPUs without VNNI, see ``best``).
    One calibration therefore gives both deployment artifacts.
    Values up to amax quantize exactly as in TensorRT; above amax TensorRT saturates at amax, this form only
    at ``2 * amax`` for zero point 0 tensors (slightly less clipping), except after ReLU6.
    ReLU6 (``Clip(0, 6)``) is folded into the quantization (:func:`fold_clips`, :func:`clip_codes`): the
    Clip moves onto the uint8 codes, ``Clip(q, 0, min(127, round(6 / s)))``, which is exactly TensorRT's
    ``clamp(round(clip(x, 0, 6) / s), -128, 127)``. Left as a float Clip it would stay between a
    DequantizeLinear and a QuantizeLinear: ORT's ClipQuantFusion removes a Clip only when the quantized range
    itself ends at 6, and ``255 * amax / 127`` never does, so every ReLU6 would cost a float round trip.
``best``
    ORT's own recipe for x86: asymmetric uint8 activations (the full 0..255 range on ReLU outputs) from ORT's
    MinMax calibration, int8 per-channel weights. On CPUs without VNNI (AVX2 only), ORT's u8 x s8 kernel adds
    pairs of products in int16 (``vpmaddubsw``), which saturates when activations use the top of the uint8
    range; then, as ORT recommends, the weights of the dense convolutions and Gemms are quantized with 7 bits
    (``reduce_range``) to prevent the overflow, while depthwise convolutions (another kernel) keep 8 bits. With VNNI
    (AVX512-VNNI or AVX-VNNI) the dot products accumulate in int32 and no reduction is needed.

Pitfall: importing ModelOpt's ONNX quantization monkey-patches ONNX Runtime's quantizer for the whole process
(``modelopt.onnx.quantization.ort_patching``: tensor selection, calibrator creation, range adjustment), after
which ``quantize_static`` fails ("Quantization parameters are not specified for param input"). The ``ptq``
stage uses both, so these functions run ``quantize_static`` in a fresh interpreter.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import numpy as np

from demos import onnx_tools, provenance
from demos.resnet50.qdq import QMAX

NONNEGATIVE_OPS = ("Relu",)
PRESERVE_SIGN_OPS = ("MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "Reshape", "Flatten")
# The classifier's output (the logits) stays float: 8-bit logits would blur the ranking between close classes,
# and TensorRT does not quantize it either. QGemm then writes float directly.
NO_LOGIT_QUANT = {"OpTypesToExcludeOutputQuantization": ["Gemm", "MatMul"]}


def has_vnni() -> bool:
    return bool(provenance.int8_dot_product(provenance.cpu_flags()))


class _Reader:
    """The CalibrationDataReader protocol of ORT: dicts of inputs, then None."""

    def __init__(self, name: str, x: np.ndarray, batch: int = 8):
        self._it = iter([{name: x[i:i + batch]} for i in range(0, len(x), batch)])

    def get_next(self):
        return next(self._it, None)


@contextlib.contextmanager
def _env(**values):
    """Set environment variables for the duration of a block."""
    import os

    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _quiet():
    # ORT's quantizer logs a pre-processing suggestion and per-tensor notes at INFO/WARNING.
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _nonnegative_tensors(model) -> dict[str, str]:
    """``{tensor: reason}`` for tensors that are >= 0 by construction.

    ReLU / Clip(min >= 0) outputs, the tensors feeding them (the fused Conv+ReLU output is quantized after the
    ReLU), and what max/average pooling, reshaping or a mean makes of non-negative tensors.
    """
    from onnx import numpy_helper

    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in model.graph.node
              if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"}
    out = {}
    for node in model.graph.node:  # topological order: producers come first
        lower = None
        if node.op_type in NONNEGATIVE_OPS:
            lower = 0.0
        elif node.op_type == "Clip" and len(node.input) > 1 and node.input[1]:
            v = inits.get(node.input[1], consts.get(node.input[1]))
            lower = float(v) if v is not None else None
        elif node.op_type in PRESERVE_SIGN_OPS and node.input and node.input[0] in out:
            out[node.output[0]] = f"{node.op_type} of a non-negative tensor"
        if lower is not None and lower >= 0:
            out[node.output[0]] = f"{node.op_type} output"
            out.setdefault(node.input[0], f"{node.op_type} input")
    return out


def _constant(model, name: str):
    """The value of an initializer or Constant node output, or None."""
    from onnx import numpy_helper

    for init in model.graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    for node in model.graph.node:
        if node.op_type == "Constant" and node.output[0] == name and node.attribute and node.attribute[0].name == "value":
            return numpy_helper.to_array(node.attribute[0].t)
    return None


def _bounded_clip_outputs(model, amax: dict[str, float]) -> set[str]:
    """Clip outputs whose upper bound is <= their amax: quantized with amax/127 they never exceed 127."""
    out = set()
    for node in model.graph.node:
        if node.op_type == "Clip" and len(node.input) > 2 and node.input[2]:
            hi = _constant(model, node.input[2])
            a = amax.get(node.output[0])
            if hi is not None and a is not None and float(hi) <= a * (1 + 1e-6):
                out.add(node.output[0])
    return out


def fold_clips(model) -> dict[str, tuple[float, float]]:
    """Remove every bounded ``Clip(min >= 0, max)`` (ReLU6) whose input only feeds it; in place.

    The node that computed the Clip's input writes the Clip's output tensor instead, so the tensor keeps its
    name (and its TensorRT scale). Returns ``{tensor: (min, max)}`` for :func:`clip_codes`, which puts the
    clipping back after quantization, on the integer codes.
    """
    consumers: dict[str, int] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers[name] = consumers.get(name, 0) + 1
    outputs = {o.name for o in model.graph.output}
    producer = {o: n for n in model.graph.node for o in n.output}
    folds = {}
    for node in list(model.graph.node):
        if node.op_type != "Clip" or len(node.input) < 3 or not node.input[1] or not node.input[2]:
            continue
        lo, hi = _constant(model, node.input[1]), _constant(model, node.input[2])
        src = node.input[0]
        if lo is None or hi is None or float(lo) < 0 or consumers.get(src) != 1 or src in outputs or src not in producer:
            continue
        prod = producer[src]
        prod.output[list(prod.output).index(src)] = node.output[0]
        model.graph.node.remove(node)
        folds[node.output[0]] = (float(lo), float(hi))
    return folds


def clip_codes(qmodel, folds: dict[str, tuple[float, float]]) -> int:
    """After quantization: put each folded Clip back as a Clip on the uint8 codes, between the tensor's
    QuantizeLinear and its DequantizeLinear nodes; in place. Returns how many were inserted.

    With TensorRT's symmetric scale ``s = amax / 127`` and zero point 0, TensorRT computes
    ``clamp(round(clip(x, lo, hi) / s), -128, 127)``; since rounding is monotonic this is
    ``clamp(round(x / s), round(lo / s), min(127, round(hi / s)))``, exactly what QuantizeLinear followed by
    this integer Clip computes. ONNX Runtime's QDQ fusions see ``DQ -> Conv -> Q`` again around every
    convolution, so they become integer kernels; the float Clip (and its dequantize/requantize) is gone.
    """
    from onnx import helper, numpy_helper

    inits = {i.name: i for i in qmodel.graph.initializer}
    q_of = {n.input[0]: n for n in qmodel.graph.node if n.op_type == "QuantizeLinear"}
    inserted = 0
    for tensor, (lo, hi) in folds.items():
        q = q_of.get(tensor)
        if q is None:
            raise RuntimeError(f"cpu_int8: the folded Clip output {tensor} was not quantized")
        scale = float(numpy_helper.to_array(inits[q.input[1]]))
        zero_point = int(numpy_helper.to_array(inits[q.input[2]]))
        if zero_point != 0:
            raise RuntimeError(f"cpu_int8: {tensor} has zero point {zero_point}; a folded Clip needs 0")
        codes = (max(0, round(lo / scale)), min(127, round(hi / scale)))
        clipped = q.output[0] + "_clipped"
        names = [f"{tensor}_code_min", f"{tensor}_code_max"]
        for name, value in zip(names, codes):
            qmodel.graph.initializer.append(numpy_helper.from_array(np.array(value, np.uint8), name))
        for node in qmodel.graph.node:
            if node.op_type == "DequantizeLinear" and node.input[0] == q.output[0]:
                node.input[0] = clipped
        position = list(qmodel.graph.node).index(q) + 1
        qmodel.graph.node.insert(position, helper.make_node("Clip", [q.output[0], *names], [clipped],
                                                            name=f"{tensor}_clip_codes"))
        inserted += 1
    return inserted


def trt_scales_overrides(model, amax: dict[str, float]) -> dict[str, list[dict]]:
    """ORT TensorQuantOverrides that carry TensorRT's symmetric scales as uint8."""
    from onnxruntime.quantization import QuantType

    nonneg = _nonnegative_tensors(model)
    # A ReLU's input shares the ReLU output's scale: Conv+ReLU is one quantized op, as in TensorRT.
    share = {n.input[0]: n.output[0] for n in model.graph.node
             if n.op_type in ("Relu", "Clip") and n.input and n.output[0] in nonneg and n.output[0] in amax}
    overrides = {}
    for tensor, a in amax.items():
        a = amax[share[tensor]] if tensor in share else a
        if a <= 0:
            continue
        zp = 0 if tensor in nonneg else 128
        overrides[tensor] = [{"quant_type": QuantType.QUInt8, "scale": np.array(a / QMAX, np.float32),
                              "zero_point": np.array(zp, np.uint8)}]
    return overrides


def _dense_conv_weight_overrides(model, only_inputs: set[str] | None = None) -> dict[str, list[dict]]:
    """7-bit weights for dense (non-depthwise) convolutions and Gemms: no int16 overflow on AVX2 without VNNI.

    With ``only_inputs``, only the nodes reading one of those tensors are affected.
    """
    inits = {i.name: i for i in model.graph.initializer}
    out = {}
    for node in model.graph.node:
        if only_inputs is not None and node.input[0] not in only_inputs:
            continue
        if len(node.input) < 2 or node.input[1] not in inits:
            continue
        dims = inits[node.input[1]].dims
        if node.op_type == "Conv":
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            if group > 1 and group == dims[0]:
                continue  # depthwise: another ORT kernel, no int16 pair sums
            axis = 0
        elif node.op_type == "Gemm":
            axis = 0 if next((a.i for a in node.attribute if a.name == "transB"), 0) else 1
        else:
            continue
        out[node.input[1]] = [{"axis": axis, "reduce_range": True}] + [{"reduce_range": True}] * (dims[axis] - 1)
    return out


def _fresh_process(form: str, fp32_path, out, calibration: np.ndarray, reduce_range: str,
                   amax: dict | None = None, fold_relu6: bool = True) -> dict:
    """Run the quantizer of ``form`` in a new interpreter, untouched by ModelOpt's patches of ORT."""
    import json
    import subprocess
    import sys
    import tempfile

    repo = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "calibration.npy", calibration)
        request = {"form": form, "fp32": str(fp32_path), "out": str(out), "reduce_range": reduce_range,
                   "calibration": str(Path(tmp) / "calibration.npy"), "amax": amax,
                   "fold_relu6": fold_relu6}
        (Path(tmp) / "request.json").write_text(json.dumps(request))
        env = dict(__import__("os").environ, PYTHONPATH=str(repo))
        proc = subprocess.run([sys.executable, "-m", "demos.resnet50.cpu_int8", str(Path(tmp) / "request.json")],
                              capture_output=True, text=True, env=env, cwd=repo)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"ONNX Runtime quantization ({form}) failed: {last[:300]}")
    return json.loads(lines[-1][len("RESULT "):])


def quantize_trt_scales(fp32_path, out, amax: dict[str, float], calibration: np.ndarray,
                        reduce_range: str = "auto", fold_relu6: bool = True) -> dict:
    """Write the ``trt_scales`` form: TensorRT's scales for every activation, int8 per-channel weights.

    ``fold_relu6=False`` keeps the ReLU6 Clips in float (the form before the fold, for comparison)."""
    return _fresh_process("trt_scales", fp32_path, out, calibration[:8], reduce_range, amax, fold_relu6)


def quantize_best(fp32_path, out, calibration: np.ndarray, reduce_range: str = "auto") -> dict:
    """Write the ``best`` form: asymmetric uint8 activations (ORT MinMax), int8 per-channel weights."""
    return _fresh_process("best", fp32_path, out, calibration, reduce_range)


def _quantize_trt_scales(fp32_path, out, amax: dict[str, float], calibration: np.ndarray,
                         reduce_range: str = "auto", fold_relu6: bool = True) -> dict:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    import onnx

    model = onnx_tools.load(fp32_path)
    # ReLU6 before quantization: the Clip goes, its tensor keeps TensorRT's scale, and clip_codes puts the
    # clipping back on the integer codes (exact, see there). Kept as a float Clip, ORT could not fuse it
    # (its ClipQuantFusion needs a uint8 range that ends at 6, which amax/127 never gives).
    folded = onnx.ModelProto()
    folded.CopyFrom(model)
    folds = fold_clips(folded) if fold_relu6 else {}
    # Signs and shared scales come from the original graph (a folded Clip's output is still >= 0); the
    # tensors the fold removed (the Clips' inputs) get no override.
    present = {t for n in folded.graph.node for t in (*n.input, *n.output)}
    overrides = {t: v for t, v in trt_scales_overrides(model, amax).items() if t in present}
    # Without VNNI, ORT's u8 x s8 kernel sums pairs of products in int16, which overflows when uint8 inputs
    # above 127 meet 8-bit weights. The codes of a folded Clip stay at or below 127 (clip_codes), and so does
    # a kept Clip output whose upper bound is within its amax; dense convs reading anything else (zero point
    # 128 tensors, ReLU outputs that exceed the calibrated amax on new images) get 7-bit weights.
    # Activation scales stay TensorRT's.
    use_rr = (not has_vnni()) if reduce_range == "auto" else reduce_range == "on"
    bounded = set(folds) | _bounded_clip_outputs(model, amax)
    at_risk = {t for t in overrides if t not in bounded}
    rr = _dense_conv_weight_overrides(folded, at_risk) if use_rr else {}
    overrides.update(rr)
    name = onnx_tools.input_name(model)
    # ORT folds a ReLU into the quantization of its producer (exact here: zero point 0 clips at 0). A Clip that
    # is not folded (fold_relu6=False) is excluded from quantization and runs in float between
    # DequantizeLinear and QuantizeLinear.
    keep_clips = [n.name for n in folded.graph.node if n.op_type == "Clip" and len(n.input) > 2 and n.input[2]]
    with _quiet(), onnx_tools_tmp(out) as tmp:
        onnx.save(folded, str(tmp))
        # Every activation has an override, so ORT's own calibration pass is irrelevant: one batch suffices.
        quantize_static(str(tmp), str(tmp), _Reader(name, calibration[:8]), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                        calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=keep_clips,
                        extra_options={"TensorQuantOverrides": overrides, **NO_LOGIT_QUANT})
        q = onnx.load(str(tmp))
        inserted = clip_codes(q, folds)
        onnx.save(q, str(tmp))
        _finish(tmp, out, model)
    return {"form": "trt_scales", "file": str(out), "bytes": Path(out).stat().st_size,
            "activations": "uint8 carrying TensorRT's symmetric scales (zero point 0 after ReLU, 128 otherwise)",
            "weights": "int8 per channel, max/127 (as TensorRT)" + (
                f"; 7-bit for the {len(rr)} dense convs/Gemms whose inputs can exceed 127 (no VNNI)" if rr else ""),
            "relu6": (f"{inserted} Clips folded into the quantization: clipped on the uint8 codes" if fold_relu6
                      else "kept as float Clips between DequantizeLinear and QuantizeLinear"),
            "folded_clips": inserted,
            "overridden_tensors": len(overrides), "reduce_range_convs": len(rr), "cpu_has_vnni": has_vnni()}


def _quantize_best(fp32_path, out, calibration: np.ndarray, reduce_range: str = "auto") -> dict:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    model = onnx_tools.load(fp32_path)
    use_rr = (not has_vnni()) if reduce_range == "auto" else reduce_range == "on"
    # ORT's recommendation for CPUs without VNNI: 7-bit weights for every dense conv and Gemm. Keeping 8 bits
    # where inputs are ReLU outputs is not safe either: a ReLU6 output saturated at 6 is the top uint8 code.
    rr = _dense_conv_weight_overrides(model) if use_rr else {}
    extra = {"TensorQuantOverrides": rr} if rr else {}
    extra.update(NO_LOGIT_QUANT)
    with _quiet(), onnx_tools_tmp(out) as tmp:
        quantize_static(str(fp32_path), str(tmp), _Reader(onnx_tools.input_name(model), calibration),
                        quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        per_channel=True, calibrate_method=CalibrationMethod.MinMax, extra_options=extra)
        _finish(tmp, out, model)
    return {"form": "best", "file": str(out), "bytes": Path(out).stat().st_size,
            "activations": "uint8 asymmetric (ORT MinMax calibration)",
            "weights": "int8 per channel" + (f", 7-bit for the {len(rr)} dense convs/Gemms (no VNNI)"
                                             if rr else ""),
            "reduce_range_convs": len(rr), "cpu_has_vnni": has_vnni()}


def ort_kernels(path) -> dict[str, int]:
    """How many of each operator ONNX Runtime runs for ``path`` after its full graph optimization (the
    session writes the optimized graph to a temporary file). A Clip on uint8 codes counts as
    ``Clip (uint8 codes)``, a float Clip as ``Clip``."""
    import collections
    import tempfile

    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        opts.log_severity_level = 3  # the note that the optimized file is hardware specific
        ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        model = onnx.load(opts.optimized_model_filepath)
    uint8 = {i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.UINT8}
    counts = collections.Counter()
    for node in model.graph.node:
        codes = node.op_type == "Clip" and len(node.input) > 2 and node.input[2] in uint8
        counts["Clip (uint8 codes)" if codes else node.op_type] += 1
    return dict(counts)


def relu6_fold_study(fp32_path, calibration: np.ndarray, data_hash: str, folder) -> dict:
    """The ``trt_scales`` form of one model twice, ReLU6 kept in float and folded, with the operators ONNX
    Runtime runs for each; cached in ``folder`` (key: model, calibration data, this file, ONNX Runtime).

    Scales come from the project's ``max`` calibrator on ``calibration`` (every activation). Returns
    ``{"kept": {...}, "folded": {...}}``, each with ``file``, ``kernels`` and the quantizer's record.
    """
    import onnxruntime

    from demos import files
    from demos.resnet50 import calibration as calib

    folder = Path(folder)
    key = {"onnx_sha256": files.sha256_file(fp32_path), "data_sha256": data_hash, "images": len(calibration),
           "code_sha256": files.sha256_file(__file__), "onnxruntime": onnxruntime.__version__}
    paths = {form: folder / f"cpu_int8_trt_scales_{form}.onnx" for form in ("kept", "folded")}
    hit = files.load_cache(folder / "relu6_fold.npz", key)
    if hit is not None and all(p.exists() and files.sha256_file(p) == hit[1][f]["sha256"] for f, p in paths.items()):
        return hit[1]
    batches = lambda: (calibration[i:i + 8] for i in range(0, len(calibration), 8))  # noqa: E731
    with _env(TQDM_DISABLE="1"):  # no progress bar in a page's output
        collection = calib.collect(fp32_path, batches, cache=folder / "activations.npz", data_hash=data_hash,
                                   batch_size=8, total=len(calibration))
    amax = collection.amax(calib.calibrators()["max"])
    out = {}
    for form, fold in (("kept", False), ("folded", True)):
        rec = quantize_trt_scales(fp32_path, paths[form], amax, calibration, fold_relu6=fold)
        out[form] = {**rec, "file": str(paths[form]), "kernels": ort_kernels(paths[form]),
                     "sha256": files.sha256_file(paths[form])}
    files.save_cache(folder / "relu6_fold.npz", key, None, out)
    return out


@contextlib.contextmanager
def onnx_tools_tmp(out):
    from demos import files

    with files.atomic_path(out, suffix=".onnx") as tmp:
        yield tmp


def _finish(tmp: Path, out, src_model) -> None:
    """Carry the demo metadata into the quantized file (written in place at ``tmp``)."""
    import onnx

    q = onnx.load(str(tmp))
    onnx_tools.set_metadata(q, onnx_tools.metadata(src_model))
    onnx.save(q, str(tmp))


if __name__ == "__main__":  # the child process of _fresh_process
    import json
    import sys

    req = json.loads(Path(sys.argv[1]).read_text())
    x = np.load(req["calibration"])
    if req["form"] == "trt_scales":
        res = _quantize_trt_scales(req["fp32"], req["out"], req["amax"], x, req["reduce_range"],
                                   req.get("fold_relu6", True))
    else:
        res = _quantize_best(req["fp32"], req["out"], x, req["reduce_range"])
    print("RESULT " + json.dumps(res), flush=True)
