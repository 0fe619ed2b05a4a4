"""TensorRT data types and what holds them in PyTorch and NumPy.

``trt.nptype()`` only knows the types NumPy has, so it raises for an engine with BF16, FP8, INT4, FP4 or E8M0
inputs or outputs.  This table maps each ``trt.DataType`` (by its name, the same in TensorRT 10, 11 and
TensorRT-RTX) to a PyTorch dtype, a NumPy dtype where NumPy has one (``ml_dtypes`` supplies BF16 and the FP8
formats as NumPy dtypes), and its size in bits.  Packed sub-byte types (INT4, FP4: two values per byte) are
held as raw bytes, as NVIDIA's ``samples/python/common_runtime.py`` does for every type NumPy lacks.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class DType:
    name: str  # trt.DataType member name: FLOAT, HALF, BF16, ...
    torch: str | None  # attribute of the torch module; None: hold raw bytes
    numpy: str | None  # NumPy dtype name, or an ml_dtypes type name; None: raw bytes
    bits: int

    @property
    def packed(self) -> bool:
        return self.bits < 8

    def nbytes(self, shape) -> int:
        return math.ceil(int(np.prod(shape, dtype=np.int64)) * self.bits / 8)

    def numpy_dtype(self) -> np.dtype:
        """The NumPy dtype of host arrays; ``uint8`` (raw bytes) for the packed types."""
        if self.numpy is None:
            return np.dtype(np.uint8)
        if hasattr(np, self.numpy):
            return np.dtype(self.numpy)
        try:
            import ml_dtypes
        except ImportError:
            from demos.errors import MissingRuntime

            raise MissingRuntime(f"TensorRT {self.name} tensors need ml_dtypes for host arrays (pip install ml_dtypes)") from None
        return np.dtype(getattr(ml_dtypes, self.numpy))

    def host_shape(self, shape) -> tuple[int, ...]:
        return (self.nbytes(shape),) if self.packed else tuple(int(d) for d in shape)


TYPES = {t.name: t for t in (
    DType("FLOAT", "float32", "float32", 32),
    DType("HALF", "float16", "float16", 16),
    DType("BF16", "bfloat16", "bfloat16", 16),
    DType("INT8", "int8", "int8", 8),
    DType("UINT8", "uint8", "uint8", 8),
    DType("INT32", "int32", "int32", 32),
    DType("INT64", "int64", "int64", 64),
    DType("BOOL", "bool", "bool_", 8),
    DType("FP8", "float8_e4m3fn", "float8_e4m3fn", 8),
    DType("E8M0", "float8_e8m0fnu", "float8_e8m0fnu", 8),
    DType("INT4", None, None, 4),
    DType("FP4", None, None, 4),
)}  # fmt: skip
_FROM_NUMPY = {"float32": "FLOAT", "float16": "HALF", "int8": "INT8", "uint8": "UINT8", "int32": "INT32",
               "int64": "INT64", "bool": "BOOL", "bfloat16": "BF16", "float8_e4m3fn": "FP8"}


def of(dtype) -> DType:
    """The entry for a ``trt.DataType``, its name (``"HALF"``), or a NumPy dtype."""
    if isinstance(dtype, DType):
        return dtype
    if isinstance(dtype, str) and dtype.upper() in TYPES:
        return TYPES[dtype.upper()]
    name = getattr(dtype, "name", None)
    if isinstance(name, str) and name in TYPES:  # a trt.DataType member (pybind11 enums have .name)
        return TYPES[name]
    text = str(dtype).split(".")[-1]
    if text in TYPES:
        return TYPES[text]
    try:
        key = _FROM_NUMPY.get(np.dtype(dtype).name)
    except TypeError:
        key = None
    if key is None:
        raise ValueError(f"unknown tensor data type {dtype!r}; known: {', '.join(TYPES)}")
    return TYPES[key]


def torch_dtype(dtype):
    """The PyTorch dtype for a TensorRT type, or None where the tensor is held as raw bytes."""
    import torch

    entry = of(dtype)
    return getattr(torch, entry.torch) if entry.torch and hasattr(torch, entry.torch) else None
