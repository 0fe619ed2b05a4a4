"""Finding TensorRT: which flavour is importable, its version, and a one-line reason when it is not."""

from __future__ import annotations

import functools

from demos.errors import MissingRuntime


@functools.lru_cache(maxsize=None)
def _import():
    try:
        import tensorrt as trt  # noqa: F401  (TensorRT 10.x or 11.x)
    except Exception as exc:  # ImportError, or OSError when libnvinfer is missing
        return None, f"`import tensorrt` failed ({exc.__class__.__name__}: {str(exc).splitlines()[0][:120]})"
    if not hasattr(trt, "Builder"):
        return None, "the installed `tensorrt` package is a stub without the bindings (install tensorrt-cu12 or -cu13)"
    return trt, None


def tensorrt():
    """The ``tensorrt`` module, or raise :class:`MissingRuntime` saying why it is unavailable."""
    trt, reason = _import()
    if trt is None:
        raise MissingRuntime(f"TensorRT is not available: {reason}")
    return trt


def available() -> bool:
    return _import()[0] is not None


def missing_reason() -> str | None:
    return _import()[1]


def major(trt) -> int:
    return int(trt.__version__.split(".")[0])


def product(trt) -> str:
    """"TensorRT-RTX" for the ``tensorrt_rtx`` bindings (their version counts from 1), else "TensorRT"."""
    return "TensorRT-RTX" if getattr(trt, "__name__", "").startswith("tensorrt_rtx") else "TensorRT"


def gpu_reason() -> str | None:
    """None if a CUDA GPU is usable from PyTorch, else why not."""
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed (it provides the default GPU buffers)"
    if not torch.cuda.is_available():
        return "no CUDA GPU is visible (torch.cuda.is_available() is False)"
    return None
