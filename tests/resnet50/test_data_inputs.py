"""Issue 16: images and labels that crashed or were read wrongly, the split rule as written, and
preprocessing equal to torchvision's ``Resize(256) + CenterCrop(224)`` on the real sample images."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from demos import data
from demos.errors import UserError
from demos.resnet50.__main__ import main

from .conftest import SAMPLES, _require_samples


# --- Preprocessing -----------------------------------------------------------------------------------------

def _old_would_differ(w: int, h: int, pre: data.Preprocess) -> bool:
    """Where the earlier implementation (rounded long side, floored crop offset) was not torchvision's
    (``int(256 * long / short)``; offsets ``int(round((n - 224) / 2))``)."""
    scale = pre.resize / min(w, h)
    old = max(pre.size, round(w * scale)), max(pre.size, round(h * scale))
    tv = (pre.resize, int(pre.resize * h / w)) if w <= h else (int(pre.resize * w / h), pre.resize)
    return old != tv or any((n - pre.size) // 2 != int(round((n - pre.size) / 2.0)) for n in old)


def test_preprocess_equals_torchvision_on_sample_images():
    """301 of the 1000 sample images were shifted by up to a pixel; now every array equals torchvision's."""
    _require_samples()
    from torchvision import transforms as T

    items = data.discover(SAMPLES)
    sizes = {}
    for it in items:
        with Image.open(it.path) as img:
            sizes[it.rel] = img.size
    pre = data.Preprocess()
    differing = [it for it in items if _old_would_differ(*sizes[it.rel], pre)]
    assert len(differing) > 200  # the images the issue found, by their sizes alone
    chosen = differing[:24] + [it for it in items if it not in differing][:8]
    for mean_std in ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)), ((0.5,) * 3, (0.5,) * 3):
        pre = data.Preprocess(*mean_std)
        reference = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(*mean_std)])
        for it in chosen:
            img = data.load_rgb(it.path)
            ours, theirs = data.preprocess(img, pre), reference(img).numpy()
            assert ours.shape == theirs.shape == (3, 224, 224)
            assert np.abs(ours - theirs).max() <= 1e-6, it.rel


def test_resize_and_crop_follow_torchvision_rules():
    assert data.resized_size(500, 375, 256) == (341, 256)  # 341.33 -> 341 (truncated, as torchvision)
    assert data.resized_size(333, 500, 256) == (256, 384)  # 384.38 -> 384
    assert data.resized_size(500, 333, 256) == (384, 256)
    assert data.center_crop_box(341, 256, 224) == (58, 16, 282, 240)  # (341 - 224) / 2 = 58.5 -> 58 (round half even)
    assert data.center_crop_box(343, 256, 224) == (60, 16, 284, 240)  # 59.5 -> 60
    with pytest.raises(ValueError):
        data.Preprocess(size=300, resize=256)


# --- Images and labels -------------------------------------------------------------------------------------

def _png16(arr: np.ndarray) -> bytes:
    """A 16-bit PNG (grayscale or RGB), written by hand: Pillow cannot write 16-bit RGB."""
    h, w = arr.shape[:2]
    color_type = 2 if arr.ndim == 3 else 0
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_16_bit_pngs_read_like_their_8_bit_originals(tmp_path):
    """16-bit grayscale PNGs used to come out almost white (top-1 0 % instead of 64 %)."""
    _require_samples()
    item = data.discover(SAMPLES)[0]
    rgb8 = np.asarray(data.load_rgb(item.path))
    gray8 = np.asarray(Image.fromarray(rgb8).convert("L"))
    for name, arr8 in (("gray16.png", gray8), ("rgb16.png", rgb8)):
        (tmp_path / name).write_bytes(_png16(arr8.astype(np.uint16) * 257))
        stats = data.LoadStats()
        got = np.asarray(data.load_rgb(tmp_path / name, stats))
        want = arr8 if arr8.ndim == 3 else np.repeat(arr8[..., None], 3, axis=2)
        assert got.dtype == np.uint8 and np.array_equal(got, want), name


def _labels(tmp_path: Path, text: bytes) -> Path:
    Image.new("RGB", (8, 8), (120, 30, 200)).save(tmp_path / "a.jpg")
    (tmp_path / "labels.csv").write_bytes(text)
    return tmp_path


def test_labels_csv_with_byte_order_mark(tmp_path):
    folder = _labels(tmp_path, "file,class_index,name\na.jpg,7,café\n".encode("utf-8-sig"))
    items = data.discover(folder)
    assert [(it.rel, it.label) for it in items] == [("a.jpg", 7)]


def test_latin1_labels_csv_is_one_line(tmp_path, capsys):
    folder = _labels(tmp_path, "file,class_index,name\na.jpg,7,caf\xe9\n".encode("latin-1"))
    with pytest.raises(UserError, match=r"labels.csv:2: not UTF-8 \(byte 0xe9\); save the file as UTF-8"):
        data.discover(folder)
    (folder / "labels.csv").write_bytes(b"file,class_index\n\x00\x00")
    with pytest.raises(UserError, match="not a text file"):
        data.discover(folder)


# --- The split ---------------------------------------------------------------------------------------------

def test_split_rule_as_written_is_the_rule_in_the_code():
    """The records said ``sha256(path) % 5`` while the code used the first 64 bits of the hash."""
    _require_samples()
    items = data.discover(SAMPLES)
    rule = eval("lambda sha256, rel: " + data.SPLIT_RULE.replace("relative path", "rel"))  # the text, run
    written = {it.rel for it in items if rule(lambda p: hashlib.sha256(p.encode()), it.rel)}
    assert written == {it.rel for it in items if it.role == "calibration"}
    whole_hash = {it.rel for it in items if int(hashlib.sha256(it.rel.encode()).hexdigest(), 16) % 5 == 0}
    assert whole_hash != written  # the old text described another split
    assert "first 64 bits of the SHA-256" in " ".join(data.__doc__.split())


def test_more_images_than_the_pool_is_refused(eff, capsys):
    items = data.discover(SAMPLES)
    pool = data.split(items, "calibration")
    with pytest.raises(UserError, match=f"--calib-count 5000: the calibration pool has only {len(pool)} image"):
        data.split(items, "calibration", 5000, strict=True)
    assert len(data.split(items, "calibration", 5000)) == len(pool)  # library callers keep the old meaning
    # On the command line: refused before any file changes (it used to calibrate on the whole pool).
    before = {p.name: p.stat().st_mtime_ns for p in eff.root.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["--workdir", str(eff.root), "ptq", "--calib-count", "5000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --calib-count 5000: the calibration pool has only {len(pool)} image(s) (1 in 5 of the "
                   f"folder goes to calibration); ask for at most {len(pool)}"]
    assert main(["--workdir", str(eff.root), "eval", "--eval-count", "5000"]) == 2
    assert "--eval-count 5000: the evaluation pool has only" in capsys.readouterr().err
    after = {p.name: p.stat().st_mtime_ns for p in eff.root.rglob("*") if p.is_file()}
    assert after == before
