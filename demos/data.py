"""Labelled image folders, the calibration/evaluation split, and ImageNet-style preprocessing.

Two folder layouts are understood:

* a folder with ``labels.csv`` (columns ``file,class_index[,wnid,name]``), like
  ``../shared/data/imagenet-samples/``;
* the ImageNet ``val/`` layout: one sub-folder per class named by its WordNet id (``n01440764/...``).
  Class indices follow the ILSVRC2012 order (the sorted WordNet ids, which torchvision and timm use).

``labels.csv`` is read as UTF-8 (a byte-order mark is allowed); another encoding is refused in one line.

The split between calibration and evaluation images is deterministic and never overlaps (:data:`SPLIT_RULE`):
an image belongs to the calibration pool when the first 64 bits of the SHA-256 of its path relative to the
folder (its first 16 hex digits), read as an unsigned integer, are divisible by 5 (about 20 % of the images);
every other image is an evaluation image. Within each pool images are ordered by that hash, so "the first N"
is a class-mixed subset that stays the same when images are added.

Images that cannot be decoded are skipped and counted; grayscale, CMYK, palette, RGBA and 16-bit images are
converted to 8-bit RGB (16-bit values keep their 8 high bits, as ``torchvision.transforms.v2`` converts
``uint16`` to ``uint8``).

:func:`preprocess` is torchvision's ImageNet evaluation transform on PIL images, operation for operation
(``Resize(256)``: the short side becomes 256 and the long side ``int(256 * long / short)``, PIL's bilinear
filter, which always antialiases; ``CenterCrop(224)`` at ``int(round((n - 224) / 2))``; ``ToTensor``;
``Normalize``), so its arrays are equal to torchvision's.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from demos import locations
from demos.errors import UserError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
CALIBRATION_MODULUS = 5  # 1 in 5 images (by path hash) is a calibration image
#: The split rule as the records state it; :attr:`Item.role` implements exactly this.
SPLIT_RULE = "int(sha256(relative path).hexdigest()[:16], 16) % 5 == 0"
_WNID = re.compile(r"^n\d{8}$")

#: Default location of the sample images: ``$TUTORIAL_SAMPLES``, else ``../shared/data/imagenet-samples``
#: beside the clone (see :mod:`demos.locations`); the same from any working directory.
SAMPLES = locations.samples_dir()


@dataclass(frozen=True)
class Item:
    path: Path
    label: int
    rel: str  # path relative to the folder root: what the split and the data hash use

    @property
    def split_key(self) -> str:
        return hashlib.sha256(self.rel.encode()).hexdigest()

    @property
    def role(self) -> str:
        return "calibration" if int(self.split_key[:16], 16) % CALIBRATION_MODULUS == 0 else "evaluation"


@dataclass(frozen=True)
class Preprocess:
    """Resize the short side, center-crop, scale to [0, 1], normalize per channel."""

    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    size: int = 224
    resize: int = 256

    def __post_init__(self):
        if not 0 < self.size <= self.resize:
            raise ValueError(f"crop size {self.size} must be positive and at most the resize {self.resize}")

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std), "size": self.size, "resize": self.resize}

    @classmethod
    def from_dict(cls, d: dict) -> "Preprocess":
        return cls(tuple(d["mean"]), tuple(d["std"]), int(d["size"]), int(d["resize"]))


@dataclass
class LoadStats:
    loaded: int = 0
    skipped: list[str] = field(default_factory=list)  # relative paths of unreadable images
    converted: dict[str, int] = field(default_factory=dict)  # original mode -> count (e.g. "L", "CMYK")

    def to_dict(self) -> dict:
        return {"loaded": self.loaded, "skipped": len(self.skipped), "skipped_files": self.skipped[:20],
                "converted_to_rgb": dict(self.converted)}


# --- Discovering a labelled folder ----------------------------------------------------------------------

def discover(folder: str | Path) -> list[Item]:
    """All labelled images of ``folder`` (``labels.csv`` layout or ImageNet ``val/`` layout)."""
    root = Path(folder)
    if not root.is_dir():
        raise UserError(f"image folder not found: {root} (pass --data DIR with labels.csv or one sub-folder per WordNet id)")
    items = _from_labels_csv(root) if (root / "labels.csv").is_file() else _from_class_folders(root)
    if not items:
        raise UserError(f"no images found in {root}: expected labels.csv or sub-folders named by WordNet id "
                        f"(n01440764/...) holding {', '.join(sorted(IMAGE_SUFFIXES))} files")
    return items


def _read_labels_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark (Excel's "CSV UTF-8") is allowed
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8, e.g. "
                        f"iconv -f latin1 -t utf-8") from None


def _from_labels_csv(root: Path) -> list[Item]:
    import io

    items = []
    text = _read_labels_text(root / "labels.csv")
    if "\0" in text:
        raise UserError(f"{root / 'labels.csv'} is not a text file (it holds NUL bytes)")
    with io.StringIO(text, newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"file", "class_index"} <= set(reader.fieldnames):
            raise UserError(f"{root / 'labels.csv'} needs the columns file,class_index (found {reader.fieldnames})")
        for line, row in enumerate(reader, start=2):
            try:
                label = int(row["class_index"])
            except (TypeError, ValueError):
                raise UserError(f"{root / 'labels.csv'}:{line}: class_index {row['class_index']!r} is not an integer") from None
            if not 0 <= label < 1000:
                raise UserError(f"{root / 'labels.csv'}:{line}: class_index {label} is outside 0..999")
            if not row["file"]:
                raise UserError(f"{root / 'labels.csv'}:{line}: the file column is empty")
            items.append(Item(root / row["file"], label, row["file"]))
    return items


def _imagenet_wnids() -> list[str] | None:
    try:
        from timm.data import ImageNetInfo
    except ImportError:
        return None
    return list(ImageNetInfo().label_names())


def _from_class_folders(root: Path) -> list[Item]:
    dirs = sorted(d.name for d in root.iterdir() if d.is_dir() and _WNID.match(d.name))
    if not dirs:
        return []
    wnids = _imagenet_wnids()
    if wnids is not None:
        index = {w: i for i, w in enumerate(wnids)}
        unknown = [d for d in dirs if d not in index]
        if unknown:
            raise UserError(f"{root}: folder {unknown[0]} is not an ImageNet-1k WordNet id")
    elif len(dirs) == 1000:
        index = {w: i for i, w in enumerate(dirs)}  # all classes present: sorted order is ILSVRC order
    else:
        raise UserError(f"{root} has {len(dirs)} class folders; install timm (for the WordNet id list) "
                        "or provide labels.csv")
    items = []
    for d in dirs:
        for p in sorted((root / d).iterdir()):
            if p.suffix.lower() in IMAGE_SUFFIXES:
                items.append(Item(p, index[d], f"{d}/{p.name}"))
    return items


# --- The split ------------------------------------------------------------------------------------------

def split(items: Sequence[Item], role: str, count: int | None = None, strict: bool = False) -> list[Item]:
    """The first ``count`` images (all if None) of the ``calibration`` or ``evaluation`` pool.

    With ``strict``, asking for more images than the pool holds is an error instead of giving the whole pool.
    """
    if role not in ("calibration", "evaluation"):
        raise ValueError(role)
    pool = sorted((it for it in items if it.role == role), key=lambda it: it.split_key)
    option = f"--{'calib' if role == 'calibration' else 'eval'}-count"
    if count is not None:
        if count <= 0:
            raise UserError(f"{option} must be positive, got {count}")
        if strict and count > len(pool):
            raise UserError(f"{option} {count}: the {role} pool has only {len(pool)} image(s) (1 in "
                            f"{CALIBRATION_MODULUS} of the folder goes to calibration); ask for at most {len(pool)}")
        pool = pool[:count]
    if not pool:
        raise UserError(f"no {role} images: the folder has {len(items)} image(s), and 1 in "
                        f"{CALIBRATION_MODULUS} (by path hash) goes to calibration; add more images")
    return pool


def data_hash(items: Sequence[Item]) -> str:
    """SHA-256 over the relative paths, labels and file bytes of ``items`` (the cache key of a data set)."""
    h = hashlib.sha256()
    for it in items:
        h.update(f"{it.rel}\0{it.label}\0".encode())
        try:
            h.update(hashlib.sha256(it.path.read_bytes()).digest())
        except OSError:
            h.update(b"<unreadable>")
    return h.hexdigest()


# --- Decoding and preprocessing -------------------------------------------------------------------------

def load_rgb(path: Path, stats: LoadStats | None = None):
    """Open an image as RGB PIL image, or return None (and count it) when it cannot be decoded."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if img.mode != "RGB":
                if stats is not None:
                    stats.converted[img.mode] = stats.converted.get(img.mode, 0) + 1
                # CMYK JPEGs (including Adobe's inverted ones), grayscale, palette and RGBA all map here.
                if img.mode.startswith("I"):  # 16-bit grayscale ("I;16", "I;16B", "I"): PIL would clip at 255
                    img = Image.fromarray((np.asarray(img).astype(np.uint32) >> 8).clip(0, 255).astype(np.uint8))
                img = img.convert("RGBA").convert("RGB") if img.mode in ("P", "PA", "LA") else img.convert("RGB")
            else:
                img = img.copy()
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None
    return img


def resized_size(width: int, height: int, short: int) -> tuple[int, int]:
    """``(width, height)`` after torchvision's ``Resize(short)``: the long side is truncated, not rounded."""
    if width <= height:
        return short, int(short * height / width)
    return int(short * width / height), short


def center_crop_box(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """PIL crop box of torchvision's ``CenterCrop(size)``: offsets ``int(round((n - size) / 2))``."""
    left, top = int(round((width - size) / 2.0)), int(round((height - size) / 2.0))
    return left, top, left + size, top + size


def preprocess(img, pre: Preprocess):
    """PIL RGB image -> float32 CHW array, normalized: torchvision's ``Resize(pre.resize)``,
    ``CenterCrop(pre.size)``, ``ToTensor()``, ``Normalize(mean, std)`` on a PIL image, step by step."""
    import numpy as np
    from PIL import Image

    size = resized_size(*img.size, pre.resize)
    if size != img.size:
        img = img.resize(size, Image.BILINEAR)  # PIL's bilinear filter antialiases when it shrinks
    img = img.crop(center_crop_box(*img.size, pre.size))
    x = np.asarray(img, dtype=np.float32) / np.float32(255)
    x = (x - np.asarray(pre.mean, np.float32)) / np.asarray(pre.std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def batches(items: Sequence[Item], pre: Preprocess, batch_size: int, stats: LoadStats | None = None,
            progress: str | None = None) -> Iterator[tuple]:
    """Yield ``(images [B,3,H,W] float32, labels [B] int64)``; unreadable images are skipped and counted."""
    import numpy as np
    from tqdm.auto import tqdm

    stats = stats if stats is not None else LoadStats()
    xs, ys = [], []
    for it in tqdm(items, desc=progress, unit="img", disable=progress is None, leave=False):
        img = load_rgb(it.path, stats)
        if img is None:
            stats.skipped.append(it.rel)
            continue
        stats.loaded += 1
        xs.append(preprocess(img, pre))
        ys.append(it.label)
        if len(xs) == batch_size:
            yield np.stack(xs), np.asarray(ys, np.int64)
            xs, ys = [], []
    if xs:
        yield np.stack(xs), np.asarray(ys, np.int64)


def load_array(items: Sequence[Item], pre: Preprocess, stats: LoadStats | None = None,
               progress: str | None = None) -> tuple:
    """All of ``items`` as one array (for small calibration sets)."""
    import numpy as np

    parts = list(batches(items, pre, 64, stats, progress))
    if not parts:
        raise UserError(f"none of the {len(items)} image(s) could be read (all unreadable); check the folder")
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
