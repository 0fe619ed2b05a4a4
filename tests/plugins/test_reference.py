"""The NumPy and PyTorch references agree bit for bit and compute what the plugin promises."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from demos.plugins.fields import EFFICIENTNET_LITE, IMAGENET
from demos.plugins.reference import preprocess_numpy, preprocess_torch

SHAPES = [(1, 1, 1, 3), (2, 5, 7, 3), (3, 37, 53, 3), (1, 224, 224, 3)]


def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint16)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("out_dtype", ["float32", "float16"])
@pytest.mark.parametrize("fields", [IMAGENET, EFFICIENTNET_LITE], ids=["imagenet", "efficientnet"])
def test_numpy_and_torch_references_are_bit_identical(shape, out_dtype, fields):
    rng = np.random.default_rng([*shape, len(out_dtype)])
    image = rng.integers(0, 256, size=shape, dtype=np.uint8)
    f = fields.with_out_dtype(out_dtype)
    a = preprocess_numpy(image, f)
    b = preprocess_torch(torch.from_numpy(image), f).numpy()
    assert a.dtype == b.dtype == np.dtype(out_dtype)
    assert a.shape == b.shape == (shape[0], 3, shape[1], shape[2])
    assert np.array_equal(_bits(a), _bits(b))


def test_float16_input_gives_the_same_result_as_uint8():
    # Inside TensorRT the image arrives cast to float16; 0..255 are exact there, so nothing changes.
    image = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=3)
    for f in (IMAGENET, IMAGENET.with_out_dtype("float16")):
        assert np.array_equal(_bits(preprocess_numpy(image, f)), _bits(preprocess_numpy(image.astype(np.float16), f)))


def test_layout_and_values_of_one_pixel():
    image = np.zeros((2, 3, 4, 3), dtype=np.uint8)
    image[1, 2, 3] = (255, 0, 128)
    out = preprocess_numpy(image, IMAGENET)
    mean, std = np.float32(IMAGENET.mean), np.float32(IMAGENET.std)
    expected = (np.float32([255, 0, 128]) - mean) / std
    assert np.array_equal(out[1, :, 2, 3], expected)  # channel c of pixel (n, h, w) is out[n, c, h, w]
    assert np.array_equal(out[0, :, 0, 0], (np.float32(0) - mean) / std)


def test_pixel_units_match_torchvision_two_step_normalization():
    # (x / 255 - m) / s rounds differently from (x - 255 m) / (255 s), but only in the last bits.
    image = np.random.default_rng(0).integers(0, 256, size=(2, 32, 32, 3), dtype=np.uint8)
    x = image.astype(np.float32).transpose(0, 3, 1, 2) / 255
    m = np.float32([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
    s = np.float32([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)
    np.testing.assert_allclose(preprocess_numpy(image, IMAGENET), (x - m) / s, rtol=0, atol=2e-6)


def test_reference_rejects_non_nhwc():
    with pytest.raises(ValueError, match="NHWC"):
        preprocess_numpy(np.zeros((1, 3, 8, 8), np.uint8), IMAGENET)


@pytest.mark.parametrize("size", [(259, 256), (350, 300), (300, 517), (500, 375), (224, 224)])
def test_decoded_pixels_are_what_the_pipeline_preprocesses(size):
    """The plugin page's uint8 image is demos.data.preprocess's resize and crop: normalized by the reference it
    gives the pipeline's float32 input up to the last bits. The page used to round the long side and floor the
    crop offset, which shifts the crop by a pixel for sizes like these."""
    from PIL import Image

    from demos import data
    from demos.plugins.reference import decoded_pixels

    rng = np.random.default_rng(list(size))
    img = Image.fromarray(rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8), "RGB")
    pre = data.Preprocess()
    pixels = decoded_pixels(img, pre)
    assert pixels.dtype == np.uint8 and pixels.shape == (1, pre.size, pre.size, 3)
    np.testing.assert_allclose(preprocess_numpy(pixels, IMAGENET), data.preprocess(img, pre)[None], rtol=0, atol=2e-6)
