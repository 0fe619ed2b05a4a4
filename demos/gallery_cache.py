"""Artefacts that several gallery pages share: the exported model, the sample images and FP32 logits.

The FP16, INT8, QAT and ResNet50 pages all start from the same FP32 ONNX file, the same evaluation images
and the same reference logits. Computing them once per site build keeps the build short; each file lives in
``gallery-cache/<model>/`` of the cache folder (``build/`` in a clone, ``$TUTORIAL_CACHE_DIR`` or the user
cache folder elsewhere: :mod:`demos.locations`) with the key it was computed from (weights, data, library
versions and the hash of the demo code that produced it) and is recomputed whenever that key changes.
Without the sample images the pages run on scikit-image's bundled photos, labelled as such.

    >>> art = Artifacts("efficientnet_lite0")
    >>> onnx_path = art.fp32_onnx()
    >>> imgs = art.images("eval", count=200)
    >>> logits = art.ort_logits(onnx_path, imgs)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from demos import data, files, locations, models
from demos.resnet50.workdir import Workdir

PACKAGE = Path(__file__).resolve().parent  # the demos package, in a clone or installed
CACHE_ROOT = locations.cache_root() / "gallery-cache"
ROLES = {"eval": "evaluation", "calib": "calibration"}
# The modules whose code decides what the exported file contains.
_EXPORT_SOURCES = ("models.py", "resnet50/export.py", "onnx_tools.py")


@dataclass
class Images:
    """Preprocessed images of one role of the sample split, and where they came from."""

    array: np.ndarray  # float32 [N, 3, H, W]
    labels: np.ndarray  # int64 [N]
    items: list[data.Item]
    data_hash: str
    source: str  # one line for the page: how many images, which folder, which split


def _default_weights(model_name: str) -> str:
    return "pretrained" if model_name == "efficientnet_lite0" else "imagenet"


def _source_hash(names) -> str:
    h = hashlib.sha256()
    for name in names:
        h.update((PACKAGE / name).read_bytes())
    return h.hexdigest()


class Artifacts:
    """Keyed, shared artefacts of one model for the gallery pages.

    ``weights`` defaults to the real ImageNet weights (``pretrained`` for EfficientNet-Lite0, torchvision's
    for ResNet50). ResNet50 weights cannot be downloaded on an offline machine: then :attr:`spec` and every
    file carry the random-weights label, and pages must not report accuracy for it.
    """

    def __init__(self, model_name: str = "efficientnet_lite0", weights: str | None = None,
                 root: str | Path | None = None):
        self.model_name = model_name
        self.weights = weights or _default_weights(model_name)
        self.workdir = Workdir(Path(root) if root else CACHE_ROOT / model_name)

    # -- The model --------------------------------------------------------------------------------------

    @cached_property
    def _model_and_spec(self):
        from demos.errors import UserError

        try:
            return models.build(self.model_name, self.weights)
        except UserError:
            if self.model_name != "resnet50" or self.weights != "imagenet":
                raise
            # Offline: the ImageNet weights are unavailable, so only structure and speed can be shown.
            return models.build(self.model_name, "random")

    @property
    def module(self):
        """The PyTorch model (eval mode) with the weights described by :attr:`spec`."""
        return self._model_and_spec[0]

    @property
    def spec(self) -> models.ModelSpec:
        return self._model_and_spec[1]

    def _export_key(self) -> dict:
        import torch

        return {"model": self.spec.name, "weights": self.spec.weights, "weights_label": self.spec.weights_label,
                "torch": torch.__version__, "onnx": _version("onnx"), "exporter": "dynamo", "opset": 20,
                "code_sha256": _source_hash(_EXPORT_SOURCES)}

    def fp32_onnx(self) -> Path:
        """The FP32 ONNX file (dynamic batch), exported on first use and whenever its key changes."""
        from demos.resnet50 import export

        path = self.workdir.path("fp32.onnx")
        key_path = self.workdir.cache / "fp32.key.json"
        key = self._export_key()
        if path.exists() and key_path.exists():
            stored = files.read_json(key_path, "export key")
            if stored.get("key") == key and stored.get("onnx_sha256") == files.sha256_file(path):
                return path
        record = export.export(self.spec.name, self.spec.weights, path)
        files.write_json(key_path, {"key": key, "onnx_sha256": files.sha256_file(path), "record": record})
        return path

    # -- The images ---------------------------------------------------------------------------------------

    def images(self, role: str = "eval", count: int | None = None) -> Images:
        """The first ``count`` images (all if None) of the ``eval`` or ``calib`` pool of the sample folder."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {sorted(ROLES)}, got {role!r}")
        if not data.SAMPLES.is_dir():
            return self._fallback_images(role, count)
        items = data.split(data.discover(data.SAMPLES), ROLES[role], count)
        digest = data.data_hash(items)
        pre = self.spec.preprocess
        key = {"data_sha256": digest, "preprocess": pre.to_dict(), "code_sha256": _source_hash(["data.py"]),
               "pillow": _version("PIL")}
        cache = self.workdir.cache / f"images_{role}_{digest[:16]}.npz"
        hit = files.load_cache(cache, key)
        if hit is None:
            stats = data.LoadStats()
            x, y = data.load_array(items, pre, stats)
            files.save_cache(cache, key, {"x": x, "y": y}, {"stats": stats.to_dict()})
        else:
            x, y = hit[0]["x"], hit[0]["y"]
        source = (f"{len(x)} ImageNet sample images from {data.SAMPLES.name} "
                  f"({ROLES[role]} split of demos.data, data sha256 {digest[:12]})")
        return Images(x, y, items, digest, source)

    def _fallback_images(self, role: str, count: int | None) -> Images:
        """Without the sample folder: scikit-image's photos, label -1 (unknown), and a source that says so."""
        from demos import samples

        fallback = samples.fallback_images(count or 48, self.spec.preprocess, ROLES[role])
        digest = hashlib.sha256(fallback.array.tobytes()).hexdigest()
        labels = np.full(len(fallback.array), -1, dtype=np.int64)
        source = (f"{fallback.source}; no ImageNet labels, so accuracy figures of this run mean nothing "
                  f"(set {locations.SAMPLES_ENV} to an ImageNet-style folder)")
        return Images(fallback.array, labels, [], digest, source)

    # -- Reference outputs ----------------------------------------------------------------------------------

    def ort_logits(self, onnx_path: str | Path, images: Images, batch: int = 32) -> np.ndarray:
        """ONNX Runtime CPU logits of ``onnx_path`` on ``images``, cached by model, data and ORT version.

        ORT runs exactly as the demo's ``eval`` stage does (:func:`demos.resnet50.evaluate.ort_logits`):
        a TensorRT-style Q/DQ model as float emulation of TensorRT's INT8 math, anything else fully optimized.
        """
        import onnxruntime

        from demos.resnet50 import evaluate

        onnx_sha = files.sha256_file(onnx_path)
        key = {"onnx_sha256": onnx_sha, "data_sha256": images.data_hash, "onnxruntime": onnxruntime.__version__,
               "code_sha256": _source_hash(["resnet50/evaluate.py", "onnx_tools.py"])}
        cache = self.workdir.cache / f"logits_{onnx_sha[:12]}_{images.data_hash[:12]}.npz"
        hit = files.load_cache(cache, key)
        if hit is not None:
            return hit[0]["logits"]
        batches = (images.array[i:i + batch] for i in range(0, len(images.array), batch))
        logits, _ = evaluate.ort_logits(onnx_path, batches)
        files.save_cache(cache, key, {"logits": logits})
        return logits


def _version(module: str) -> str | None:
    from importlib import import_module

    try:
        return getattr(import_module(module), "__version__", None)
    except ImportError:
        return None
