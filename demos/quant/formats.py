"""Facts about the number formats used for inference, read from the types themselves.

Nothing here is typed from memory: ranges, smallest normal and subnormal values and machine epsilon come
from ``numpy.finfo``/``ml_dtypes.finfo`` (FP32, FP16, BF16, FP8 E4M3, FP8 E5M2) and ``iinfo`` (INT8, INT4).
TF32 is the one exception: it is a tensor-core *math mode*, not a storage type, so no library has a dtype for
it; its facts are derived from FP32's exponent with a 10-bit fraction, and :func:`round_to_tf32` emulates the
rounding of an FP32 input to TF32.

FP8 E4M3 here is the ``fn`` variant that TensorRT and ONNX use: no infinities, one NaN bit pattern per sign,
and the top exponent reused for finite numbers, which is why its largest value is 448 and not 240.
"""

from __future__ import annotations

from dataclasses import dataclass

import ml_dtypes
import numpy as np

from ._arrays import QuantInputError, to_numpy


@dataclass(frozen=True)
class FormatInfo:
    """What a number format can represent. Integer formats leave the float-only fields ``None``."""

    name: str
    kind: str  # "float" or "int"
    bits: int
    sign_bits: int
    exponent_bits: int
    mantissa_bits: int  # explicitly stored fraction bits (the leading 1 of normal numbers is implicit)
    max: float
    min: float
    smallest_normal: float | None
    smallest_subnormal: float | None
    eps: float | None  # gap between 1 and the next larger number
    has_inf: bool
    has_nan: bool
    dtype: np.dtype | None  # the storage dtype; None for TF32, which is not a storage type

    @property
    def layout(self) -> tuple[int, int, int]:
        """(sign, exponent, mantissa) bit counts; for integers the value bits count as mantissa."""
        return self.sign_bits, self.exponent_bits, self.mantissa_bits


FLOAT_DTYPES = {
    "fp32": np.dtype(np.float32),
    "fp16": np.dtype(np.float16),
    "bf16": np.dtype(ml_dtypes.bfloat16),
    "fp8_e4m3": np.dtype(ml_dtypes.float8_e4m3fn),
    "fp8_e5m2": np.dtype(ml_dtypes.float8_e5m2),
}
INT_DTYPES = {
    "int8": np.dtype(np.int8),
    "int4": np.dtype(ml_dtypes.int4),
}
#: Every format this module describes, in the order the gallery shows them.
FORMAT_NAMES = ("fp32", "tf32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "int8", "int4")


def _float_info(name: str, dtype: np.dtype) -> FormatInfo:
    fi = ml_dtypes.finfo(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        inf_cast = np.array(np.inf, dtype=np.float32).astype(dtype).astype(np.float32)
    return FormatInfo(
        name=name,
        kind="float",
        bits=int(fi.bits),
        sign_bits=1,
        exponent_bits=int(fi.nexp),
        mantissa_bits=int(fi.nmant),
        max=float(fi.max),
        min=float(fi.min),
        smallest_normal=float(fi.smallest_normal),
        smallest_subnormal=float(fi.smallest_subnormal),
        eps=float(fi.eps),
        has_inf=bool(np.isinf(inf_cast)),
        has_nan=True,
        dtype=dtype,
    )


def _tf32_info() -> FormatInfo:
    fp32 = ml_dtypes.finfo(np.float32)
    nmant = 10
    return FormatInfo(
        name="tf32",
        kind="float",
        bits=1 + int(fp32.nexp) + nmant,  # 19 significant bits, stored in a 32-bit register
        sign_bits=1,
        exponent_bits=int(fp32.nexp),
        mantissa_bits=nmant,
        max=float(np.ldexp(2.0 - 2.0**-nmant, int(fp32.maxexp) - 1)),
        min=-float(np.ldexp(2.0 - 2.0**-nmant, int(fp32.maxexp) - 1)),
        smallest_normal=float(fp32.smallest_normal),
        smallest_subnormal=float(np.ldexp(1.0, int(fp32.minexp) - nmant)),
        eps=2.0**-nmant,
        has_inf=True,
        has_nan=True,
        dtype=None,
    )


def _int_info(name: str, dtype: np.dtype) -> FormatInfo:
    ii = ml_dtypes.iinfo(dtype)
    bits = int(ii.bits)
    return FormatInfo(
        name=name,
        kind="int",
        bits=bits,
        sign_bits=1,
        exponent_bits=0,
        mantissa_bits=bits - 1,
        max=float(ii.max),
        min=float(ii.min),
        smallest_normal=None,
        smallest_subnormal=None,
        eps=None,
        has_inf=False,
        has_nan=False,
        dtype=dtype,
    )


def format_info(name: str) -> FormatInfo:
    """Facts about one format: ``fp32``, ``tf32``, ``bf16``, ``fp16``, ``fp8_e4m3``, ``fp8_e5m2``, ``int8``, ``int4``."""
    key = str(name).lower().replace("-", "_")
    if key == "tf32":
        return _tf32_info()
    if key in FLOAT_DTYPES:
        return _float_info(key, FLOAT_DTYPES[key])
    if key in INT_DTYPES:
        return _int_info(key, INT_DTYPES[key])
    raise QuantInputError(f"unknown format {name!r}; use one of {', '.join(FORMAT_NAMES)}")


def all_formats() -> list[FormatInfo]:
    """:class:`FormatInfo` for every name in :data:`FORMAT_NAMES`."""
    return [format_info(n) for n in FORMAT_NAMES]


def representable_values(name: str) -> np.ndarray:
    """Every finite value of a format of at most 16 bits, sorted and without duplicates (float64).

    Floats are enumerated from all bit patterns, so subnormals, both zeros (merged into one 0.0) and the
    largest finite value are exactly those of the type.
    """
    info = format_info(name)
    if info.dtype is None or info.bits > 16:
        raise QuantInputError(f"{name} has too many values to list; use a format of at most 16 bits (fp16, bf16, fp8_*, int8, int4)")
    if info.kind == "int":
        return np.arange(info.min, info.max + 1, dtype=np.float64)
    storage = np.uint8 if info.bits == 8 else np.uint16
    patterns = np.arange(2**info.bits, dtype=np.uint32).astype(storage)
    with np.errstate(invalid="ignore"):  # the NaN patterns; they are dropped below
        values = patterns.view(info.dtype).astype(np.float64)
    return np.unique(values[np.isfinite(values)])


def round_to_tf32(x) -> np.ndarray:
    """Round FP32 values to the nearest TF32 value (10 fraction bits, ties to even), returned as float32.

    This emulates what a tensor core does to FP32 inputs in TF32 mode; accumulation stays FP32. NaN and
    infinities pass through unchanged; values that round past the FP32 maximum become infinity.
    """
    arr = np.ascontiguousarray(to_numpy(x), dtype=np.float32)
    bits = arr.view(np.uint32).astype(np.uint64)
    drop = 23 - 10
    lsb = (bits >> drop) & 1
    rounded = ((bits + (1 << (drop - 1)) - 1 + lsb) >> drop) << drop
    out = (rounded & 0xFFFFFFFF).astype(np.uint32).view(np.float32)
    return np.where(np.isfinite(arr), out, arr)
