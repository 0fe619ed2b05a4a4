"""Reading and writing the activation scales of a Q/DQ ONNX model, and TensorRT calibration caches.

TensorRT's INT8 is symmetric: ``scale = amax / 127`` and zero point 0. In a Q/DQ model each quantized
activation ``t`` has ``QuantizeLinear(t, t_scale, t_zero_point)`` followed by a ``DequantizeLinear`` that
shares the scale; writing a calibrator's amax into the model means replacing that scale.
"""

from __future__ import annotations

import struct

import numpy as np

from demos.errors import UserError

QMAX = 127.0


def activation_quantizers(model) -> dict[str, str]:
    """``{activation tensor: scale initializer}`` for every QuantizeLinear whose input is not a weight."""
    inits = {i.name for i in model.graph.initializer}
    out = {}
    for node in model.graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] not in inits:
            if node.input[1] not in inits:
                raise UserError(f"QuantizeLinear {node.name} has a computed scale; only constant scales are supported")
            out[node.input[0]] = node.input[1]
    return out


def read_amax(model) -> dict[str, float]:
    """The amax each activation quantizer of ``model`` implies (scale * 127)."""
    from onnx import numpy_helper

    inits = {i.name: i for i in model.graph.initializer}
    return {t: float(numpy_helper.to_array(inits[s]).reshape(-1)[0]) * QMAX
            for t, s in activation_quantizers(model).items()}


def write_amax(model, amax: dict[str, float]) -> dict:
    """Set ``scale = amax / 127`` for each activation quantizer whose tensor is in ``amax`` (in place).

    The scale initializer is shared by the QuantizeLinear and its DequantizeLinear, so both change.
    Returns which tensors were written and which quantizers kept their scale (no amax for them).
    """
    from onnx import numpy_helper

    index = {init.name: i for i, init in enumerate(model.graph.initializer)}
    quantizers = activation_quantizers(model)
    written, kept = [], []
    for tensor, scale_name in quantizers.items():
        a = amax.get(tensor)
        if a is None or not np.isfinite(a) or a <= 0:
            kept.append(tensor)
            continue
        old = model.graph.initializer[index[scale_name]]
        dtype = numpy_helper.to_array(old).dtype  # keep the model's scale type (fp32 here, fp16 possible)
        new = numpy_helper.from_array(np.asarray(a / QMAX, dtype=dtype).reshape(numpy_helper.to_array(old).shape), scale_name)
        old.CopyFrom(new)
        written.append(tensor)
    return {"written": len(written), "kept": kept}


# --- TensorRT calibration cache (text: a header line, then "tensor: big-endian float32 scale in hex") ----

def calibration_cache_text(amax: dict[str, float], header: str | None = None) -> str:
    """The Q/DQ activations' amax in TensorRT's calibration cache format, for ModelOpt's import
    (``calibration_cache_path``) and for reading; not a cache for TensorRT's own calibrator, which needs every
    tensor of its network.  The header names the installed TensorRT version, or 0 (see
    :func:`demos.trt.legacy.cache_header`)."""
    if header is None:
        from demos.trt import legacy

        header = legacy.cache_header()
    lines = [header]
    for tensor, a in amax.items():
        lines.append(f"{tensor}: {struct.pack('!f', a / QMAX).hex()}")
    return "\n".join(lines) + "\n"


def parse_calibration_cache(text: str) -> dict[str, float]:
    """amax per tensor from a TensorRT calibration cache; raises UserError on a malformed file."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("TRT-"):
        raise UserError("not a TensorRT calibration cache (the first line must start with TRT-)")
    out = {}
    for n, line in enumerate(lines[1:], start=2):
        name, sep, hexval = line.rpartition(": ")
        try:
            out[name] = struct.unpack("!f", bytes.fromhex(hexval))[0] * QMAX
        except (ValueError, struct.error):
            raise UserError(f"calibration cache line {n} is malformed: {line[:80]!r}") from None
        if not sep:
            raise UserError(f"calibration cache line {n} is malformed: {line[:80]!r}")
    return out
