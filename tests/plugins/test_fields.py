"""Plugin fields: validation with clear messages, and the encoding that travels through TensorRT."""

from __future__ import annotations

import numpy as np
import pytest

from demos.errors import UserError
from demos.plugins.fields import (EFFICIENTNET_LITE, IMAGENET, PluginFieldError, PluginInputError, PreprocessFields,
                                  check_input, nbytes_per_image, output_shape)


def test_imagenet_fields_are_torchvision_normalization_in_pixel_units():
    assert IMAGENET.mean == tuple(float(np.float32(m * 255)) for m in (0.485, 0.456, 0.406))
    assert IMAGENET.std == tuple(float(np.float32(s * 255)) for s in (0.229, 0.224, 0.225))
    assert IMAGENET.out_dtype == "float32"
    assert EFFICIENTNET_LITE.mean == EFFICIENTNET_LITE.std == (127.5, 127.5, 127.5)


@pytest.mark.parametrize("fields", [IMAGENET, IMAGENET.with_out_dtype("float16"), EFFICIENTNET_LITE])
def test_raw_encoding_round_trips(fields):
    raw = fields.raw()
    assert raw["mean"].dtype == raw["std"].dtype == np.float32
    assert raw["out_dtype"].dtype == np.int8 and raw["out_dtype"][-1] == 0  # a C string
    assert PreprocessFields.from_raw(raw) == fields


def test_string_field_arrives_in_every_form_tensorrt_uses():
    # Python str, bytes, and the NUL-terminated int8 array the ONNX parser produces.
    for value in ("float16", b"float16", b"float16\0", np.frombuffer(b"float16\0", np.int8)):
        assert PreprocessFields(mean=(0, 0, 0), std=(1, 1, 1), out_dtype=value).out_dtype == "float16"


@pytest.mark.parametrize("raw, message", [
    ({"mean": [1, 2], "std": [1, 1, 1]}, "'mean' must have 3 values"),
    ({"mean": [0, 0, 0], "std": [1, 0, 1]}, "'std' must be > 0"),
    ({"mean": [0, 0, 0], "std": [1, -2, 1]}, "'std' must be > 0"),
    ({"mean": [0, np.nan, 0], "std": [1, 1, 1]}, "'mean' must be finite"),
    ({"mean": [0, 0, 0], "std": [1, 1, np.inf]}, "'std' must be finite"),
    ({"mean": "abc", "std": [1, 1, 1]}, "'mean' must be 3 numbers"),
    ({"mean": [0, 0, 0], "std": [1, 1, 1], "out_dtype": "int8"}, "'out_dtype' must be one of float32, float16"),
    ({"mean": [0, 0, 0], "std": [1, 1, 1], "out_dtype": np.array([1, 2], np.int32)}, "must be a string"),
    ({"mean": [0, 0, 0], "std": [1, 1, 1], "scale": [1]}, "unknown field(s) scale"),
    ({"std": [1, 1, 1]}, "missing field(s) mean"),
])  # fmt: skip
def test_bad_field_values_are_rejected_with_the_reason(raw, message):
    with pytest.raises(PluginFieldError) as info:
        PreprocessFields.from_raw(raw)
    assert message in str(info.value)
    assert isinstance(info.value, UserError) and isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_valid_inputs_pass():
    check_input("float16", [-1, -1, -1, 3])
    check_input("float32", ["batch", 224, 224, 3])
    check_input("float16", [None, None, None, 3])


@pytest.mark.parametrize("dtype, shape, fmt, message", [
    ("uint8", [1, 224, 224, 3], "LINEAR", "insert a Cast to float16"),
    ("int32", [1, 224, 224, 3], "LINEAR", "must be float16 or float32"),
    ("float16", [1, 224, 224], "LINEAR", "rank 4"),
    ("float16", [1, 3, 224, 224], "LINEAR", "3 channels last"),
    ("float16", [1, 224, 224, 4], "LINEAR", "3 channels last"),
    ("float16", [1, 224, 224, -1], "LINEAR", "must be static"),
    ("float16", [0, 224, 224, 3], "LINEAR", "dimension 0 must be positive"),
    ("float16", [1, 224, 224, 3], "HWC8", "LINEAR"),
])  # fmt: skip
def test_bad_inputs_are_rejected_with_what_to_change(dtype, shape, fmt, message):
    with pytest.raises(PluginInputError) as info:
        check_input(dtype, shape, fmt)
    assert message in str(info.value)


def test_output_shape_and_the_four_times_smaller_copy():
    assert output_shape((8, 224, 200, 3)) == (8, 3, 224, 200)
    sizes = nbytes_per_image(224, 224)
    assert sizes["uint8"] == 224 * 224 * 3
    assert sizes["float32"] == 4 * sizes["uint8"] and sizes["float16"] == 2 * sizes["uint8"]
