"""Input checks shared by the quantization modules.

Every public function of :mod:`demos.quant` accepts NumPy arrays and PyTorch tensors; tensors are moved to
NumPy here (``.detach().cpu().numpy()``) so that the math itself is plain NumPy. User mistakes raise
:class:`QuantInputError`, whose message is one line saying what is wrong and what to do. It is a
:class:`demos.errors.UserError`, so the demo CLIs print it as one ``error:`` line and exit non-zero, and also a
``ValueError`` for code that catches bad arguments the usual Python way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from demos.errors import UserError


class QuantInputError(UserError, ValueError):
    """A bad argument to a :mod:`demos.quant` function; the message says how to fix it.

    The CLIs turn it, like every :class:`~demos.errors.UserError`, into ``error: <message>`` and exit
    status 2, without a traceback.
    """


def is_torch_tensor(x: Any) -> bool:
    """True for a ``torch.Tensor``, checked without importing torch."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach") and hasattr(x, "cpu")


def to_numpy(x: Any, name: str = "x") -> np.ndarray:
    """Return ``x`` as a floating-point NumPy array (float32 or float64), without copying when possible.

    Accepts NumPy arrays, PyTorch tensors (any device; bfloat16 and float8 tensors are widened to float32,
    which represents them exactly) and nested sequences of numbers.
    """
    if is_torch_tensor(x):
        t = x.detach().cpu()
        if not t.is_floating_point() or t.element_size() < 2 or str(t.dtype) == "torch.bfloat16":
            t = t.float()  # NumPy has no bfloat16/float8; float32 holds them exactly
        arr = t.numpy()
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise QuantInputError(f"{name} must be a NumPy array or torch tensor of numbers ({exc})") from None
    if arr.dtype.kind == "b" or arr.dtype.kind in "iu":
        arr = arr.astype(np.float32)
    elif arr.dtype.kind == "f":
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float32)  # float16 and ml_dtypes floats: exact in float32
    elif arr.dtype.kind == "V" and arr.dtype.itemsize <= 2:
        arr = arr.astype(np.float32)  # ml_dtypes types (bfloat16, float8_*) report kind 'V'
    else:
        raise QuantInputError(
            f"{name} has dtype {arr.dtype}, not a number type; pass a float array or tensor"
        )
    return arr


def check_tensor(x: Any, name: str = "x") -> np.ndarray:
    """Convert with :func:`to_numpy`, then refuse empty or non-finite input."""
    arr = to_numpy(x, name)
    if arr.size == 0:
        raise QuantInputError(f"{name} is empty (shape {arr.shape}); pass a tensor with at least one value")
    bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
    if bad:
        raise QuantInputError(
            f"{name} has {bad} NaN/Inf value(s) out of {arr.size}; quantization needs finite values, "
            f"so find where they come from (overflow? uninitialized data?) and remove or mask them first"
        )
    return arr


def normalize_axis(axis: int, ndim: int, name: str = "axis") -> int:
    """Return ``axis`` as a non-negative index into ``ndim`` dimensions, or raise a clear error."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise QuantInputError(f"{name} must be an int (the channel dimension) or None, got {axis!r}")
    if ndim == 0:
        raise QuantInputError(f"per-channel quantization needs at least a 1-D tensor, got a scalar; use {name}=None")
    if not -ndim <= axis < ndim:
        raise QuantInputError(
            f"{name}={axis} is out of range for a {ndim}-D tensor; use a value in [{-ndim}, {ndim - 1}] "
            f"(0 for conv/linear weights, 1 for NCHW activations)"
        )
    return int(axis) % ndim


def broadcast_shape(axis: int | None, ndim: int) -> tuple[int, ...] | None:
    """Shape that makes a per-channel vector broadcast along ``axis`` of an ``ndim``-D tensor."""
    if axis is None:
        return None
    shape = [1] * ndim
    shape[axis] = -1
    return tuple(shape)
