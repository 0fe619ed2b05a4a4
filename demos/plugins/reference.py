"""Reference implementations of the preprocessing, in NumPy and in PyTorch.

Both compute ``(x - mean) / std`` in float32 with one rounding per operation (IEEE subtraction and
division), then round once to the output dtype.  The CUDA and Triton kernels do the same operations in the
same order, so on the GPU they are expected to match these references bit for bit, not just closely.
:func:`decoded_pixels` gives them what the plugin receives: an image resized and center-cropped as
:func:`demos.data.preprocess` does it, still uint8.
"""

from __future__ import annotations

import numpy as np

from demos import data
from demos.plugins.fields import PreprocessFields


def decoded_pixels(img, pre: data.Preprocess) -> np.ndarray:
    """PIL RGB image -> uint8 NHWC ``[1, size, size, 3]``: :func:`demos.data.preprocess`'s resize and center
    crop (torchvision's ``Resize`` and ``CenterCrop``), without its conversion to normalized float32."""
    from PIL import Image

    size = data.resized_size(*img.size, pre.resize)
    if size != img.size:
        img = img.resize(size, Image.BILINEAR)
    return np.array(img.crop(data.center_crop_box(*img.size, pre.size)), dtype=np.uint8)[None]


def preprocess_numpy(image: np.ndarray, fields: PreprocessFields) -> np.ndarray:
    """NHWC uint8/float16/float32 -> normalized NCHW ``fields.out_dtype`` (a new contiguous array)."""
    if image.ndim != 4 or image.shape[3] != 3:
        raise ValueError(f"expected an NHWC image with 3 channels, got shape {image.shape}")
    x = image.astype(np.float32)
    mean = np.asarray(fields.mean, dtype=np.float32)
    std = np.asarray(fields.std, dtype=np.float32)
    y = (x - mean) / std  # float32 arithmetic: both operands are float32
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2)).astype(fields.out_dtype)


def preprocess_torch(image, fields: PreprocessFields):
    """The same in PyTorch, on the tensor's device: what a pipeline would do without the plugin."""
    import torch

    if image.ndim != 4 or image.shape[3] != 3:
        raise ValueError(f"expected an NHWC image with 3 channels, got shape {tuple(image.shape)}")
    mean = torch.tensor(fields.mean, dtype=torch.float32, device=image.device).view(1, 3, 1, 1)
    std = torch.tensor(fields.std, dtype=torch.float32, device=image.device).view(1, 3, 1, 1)
    y = (image.permute(0, 3, 1, 2).to(torch.float32) - mean) / std
    return y.to(getattr(torch, fields.out_dtype)).contiguous()
