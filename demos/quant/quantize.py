r"""Symmetric quantization and dequantization, per tensor or per channel, to INT8, INT4 and FP8.

TensorRT quantizes symmetrically: the zero point is always 0, so a real value :math:`x` and its
quantized value :math:`q` are related by one number, the scale :math:`s`:

.. math::

    s = \frac{\mathrm{amax}}{q_{\max}}, \qquad
    q = \mathrm{clip}\big(\mathrm{round}(x / s),\ -q_{\max},\ q_{\max}\big), \qquad
    \hat{x} = q \cdot s

where :math:`\mathrm{amax}` is the largest magnitude that should stay representable (chosen by a
calibrator, see :mod:`demos.quant.calibrators`) and :math:`q_{\max}` is 127 for INT8, 7 for INT4, 448 for
FP8 E4M3 and 57344 for FP8 E5M2.

* Rounding is *half to even* (``numpy.rint``), as in ONNX ``QuantizeLinear`` and TensorRT; ``x / s`` is
  computed in float32 as those runtimes do, so results match them bit for bit.
* INT8 uses the *narrow* range [-127, 127] by default (ModelOpt's ``narrow_range=True``); the value -128
  is never produced, so the range is symmetric. TensorRT's ``IQuantizeLayer``, ONNX ``QuantizeLinear`` and
  ModelOpt's default quantizer saturate to the full range [-128, 127]; ``narrow_range=False`` reproduces
  that exactly. Both give the same result for every input inside [-amax, amax].
* FP8 values are rounded to the nearest FP8 number (ties to even) by ``ml_dtypes`` after the scaled
  input is clipped to ±q_max, which is ONNX's ``saturate=True`` behaviour (without the clip, values past the
  range would turn into NaN in E4M3).
"""

from __future__ import annotations

from dataclasses import dataclass

import ml_dtypes
import numpy as np

from ._arrays import QuantInputError, broadcast_shape, check_tensor, normalize_axis, to_numpy


@dataclass(frozen=True)
class QuantType:
    """A quantized storage type: its name, largest magnitude and NumPy storage dtype."""

    name: str
    kind: str  # "int" or "float"
    qmax: float
    storage: np.dtype


QUANT_TYPES = {
    "int8": QuantType("int8", "int", 127.0, np.dtype(np.int8)),
    "int4": QuantType("int4", "int", 7.0, np.dtype(ml_dtypes.int4)),
    "fp8_e4m3": QuantType("fp8_e4m3", "float", float(ml_dtypes.finfo(ml_dtypes.float8_e4m3fn).max),
                          np.dtype(ml_dtypes.float8_e4m3fn)),
    "fp8_e5m2": QuantType("fp8_e5m2", "float", float(ml_dtypes.finfo(ml_dtypes.float8_e5m2).max),
                          np.dtype(ml_dtypes.float8_e5m2)),
}


def quant_type(dtype: str | QuantType) -> QuantType:
    """Look up a :class:`QuantType` by name (``int8``, ``int4``, ``fp8_e4m3``, ``fp8_e5m2``)."""
    if isinstance(dtype, QuantType):
        return dtype
    key = str(dtype).lower().replace("-", "_")
    if key not in QUANT_TYPES:
        raise QuantInputError(f"unknown quantized type {dtype!r}; use one of {', '.join(QUANT_TYPES)}")
    return QUANT_TYPES[key]


def _check_amax(amax, name: str = "amax") -> np.ndarray:
    arr = to_numpy(amax, name).astype(np.float64)
    if arr.size == 0:
        raise QuantInputError(f"{name} is empty; pass one positive value (per tensor) or one per channel")
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        where = "" if arr.ndim == 0 else f" at channel(s) {np.flatnonzero(bad.ravel())[:5].tolist()}"
        raise QuantInputError(
            f"{name} must be positive and finite, got {float(arr.ravel()[bad.ravel()][0])}{where}; an all-zero "
            f"tensor or channel has no range to quantize: leave it unquantized, or use a positive {name}"
        )
    return arr


def scale_from_amax(amax, dtype: str = "int8"):
    """Scale ``amax / q_max`` (a float, or a float32 array for per-channel amax)."""
    qt = quant_type(dtype)
    arr = _check_amax(amax)
    scale = (arr / qt.qmax).astype(np.float32)
    return float(scale) if scale.ndim == 0 else scale


def _prepare(x, scale, axis, name_scale: str = "scale"):
    """Validate ``x``/``scale``/``axis`` and return x (float32) and scale shaped to broadcast."""
    arr = check_tensor(x)
    s = _check_amax(scale, name_scale).astype(np.float32)
    if axis is None:
        if s.size != 1:
            raise QuantInputError(
                f"{name_scale} has {s.size} values but axis=None means one per tensor; pass axis=<channel dim> "
                f"for per-channel quantization"
            )
        return arr.astype(np.float32, copy=False), s.reshape(())
    ax = normalize_axis(axis, arr.ndim)
    if s.ndim != 1 or s.size != arr.shape[ax]:
        raise QuantInputError(
            f"{name_scale} has shape {s.shape} but x has {arr.shape[ax]} channels along axis {axis} "
            f"(x.shape={arr.shape}); pass one value per channel, e.g. from per_channel_max(x, axis={axis})"
        )
    return arr.astype(np.float32, copy=False), s.reshape(broadcast_shape(ax, arr.ndim))


def quantize(x, scale, dtype: str = "int8", axis: int | None = None, narrow_range: bool = True) -> np.ndarray:
    """Quantize ``x`` with ``scale`` (one value, or one per channel along ``axis``).

    Returns an array of the storage type: ``int8``, ``ml_dtypes.int4`` or ``ml_dtypes.float8_*``.
    ``narrow_range`` only matters for the integer types (see the module docstring).
    """
    qt = quant_type(dtype)
    arr, s = _prepare(x, scale, axis)
    with np.errstate(over="ignore"):  # |x| / s may overflow to inf in float32; the clip below saturates it
        scaled = arr / s
    if qt.kind == "int":
        qmin = -qt.qmax if narrow_range else -qt.qmax - 1
        return np.clip(np.rint(scaled), qmin, qt.qmax).astype(qt.storage)
    return np.clip(scaled, -qt.qmax, qt.qmax).astype(qt.storage)


def dequantize(q, scale, axis: int | None = None) -> np.ndarray:
    """``q * scale`` in float32, with ``scale`` broadcast along ``axis`` for per-channel values."""
    arr, s = _prepare(q, scale, axis)
    return arr * s


def fake_quantize(x, amax, dtype: str = "int8", axis: int | None = None, narrow_range: bool = True) -> np.ndarray:
    """Quantize and dequantize in one step: the float32 values a Q/DQ pair lets through.

    ``amax`` is one value or, with ``axis``, one value per channel; the scale is ``amax / q_max``.
    """
    scale = scale_from_amax(amax, dtype)
    q = quantize(x, scale, dtype, axis=axis, narrow_range=narrow_range)
    return dequantize(q, scale, axis=axis)


def error_breakdown(x, amax, dtype: str = "int8", axis: int | None = None) -> dict[str, float]:
    """Mean squared quantization error of ``x``, split into its rounding and clipping parts.

    ``rounding`` sums the squared errors of values inside [-amax, amax] and ``clipping`` of those outside,
    both divided by the total number of values, so ``rounding + clipping == total``. Raising amax trades
    clipping error for rounding error; the calibrators look for the balance.
    """
    arr = check_tensor(x).astype(np.float32, copy=False)
    a = _check_amax(amax).astype(np.float32)
    dq = fake_quantize(arr, a, dtype, axis=axis)
    if axis is not None:
        a = a.reshape(broadcast_shape(normalize_axis(axis, arr.ndim), arr.ndim))
    err2 = (arr.astype(np.float64) - dq) ** 2
    inside = np.abs(arr) <= a
    n = arr.size
    rounding = float(err2[inside].sum() / n)
    clipping = float(err2[~inside].sum() / n)
    return {"rounding": rounding, "clipping": clipping, "total": rounding + clipping}
