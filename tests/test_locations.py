"""demos.locations: sample images and caches are found the same way from any working directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from demos import data, gallery_cache, locations

REPO = Path(__file__).resolve().parent.parent
PROBE = ("import json; from demos import data, gallery_cache, locations; "
         "print(json.dumps([str(data.SAMPLES), str(gallery_cache.CACHE_ROOT), str(locations.checkout_root())]))")


def _probe(cwd: Path, **env: str) -> list[str]:
    """What a fresh process sees, started in ``cwd`` with the checkout importable (as an editable install)."""
    clean = {k: v for k, v in os.environ.items() if k not in (locations.SAMPLES_ENV, locations.CACHE_ENV)}
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, capture_output=True, text=True, check=True,
                          env={**clean, "PYTHONPATH": str(REPO), **env})
    return json.loads(proc.stdout)


def test_the_clone_defaults_do_not_depend_on_the_working_directory(tmp_path):
    here = _probe(REPO)
    elsewhere = _probe(tmp_path)
    assert here == elsewhere
    samples, cache, root = elsewhere
    assert Path(root) == REPO
    assert Path(samples) == REPO.parent / "shared" / "data" / "imagenet-samples"
    assert Path(cache) == REPO / "build" / "gallery-cache"


def test_environment_variables_point_elsewhere(tmp_path):
    samples, cache, _ = _probe(tmp_path, TUTORIAL_SAMPLES="imgs", TUTORIAL_CACHE_DIR="~/c")
    assert Path(samples) == tmp_path.resolve() / "imgs"  # resolved once, at import
    assert Path(cache) == Path.home() / "c" / "gallery-cache"


def test_shown_paths_are_never_absolute(monkeypatch, tmp_path):
    assert locations.shown(REPO / "build" / "walkthrough" / "fp32.onnx") == "build/walkthrough/fp32.onnx"
    default = locations.default_samples()
    assert locations.shown(default / "labels.csv") == "../shared/data/imagenet-samples/labels.csv"
    monkeypatch.setenv(locations.SAMPLES_ENV, str(tmp_path))
    assert locations.shown(tmp_path / "a" / "b.jpg") == "$TUTORIAL_SAMPLES/a/b.jpg"
    assert locations.shown("/somewhere/else/model.onnx") == "model.onnx"


def test_gallery_images_fall_back_to_labelled_photos(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "SAMPLES", tmp_path / "missing")
    art = gallery_cache.Artifacts("efficientnet_lite0", root=tmp_path / "cache")
    imgs = art.images("calib", count=5)
    assert imgs.array.shape == (5, 3, 224, 224) and imgs.array.dtype == np.float32
    assert (imgs.labels == -1).all() and imgs.items == []
    assert imgs.source.startswith("FALLBACK: 5 crops") and "accuracy figures of this run mean nothing" in imgs.source
    assert str(tmp_path) not in imgs.source  # the page shows no machine path
    assert not np.array_equal(imgs.array, art.images("eval", count=5).array)
