"""Where the demo code finds its sample images and keeps its caches, from any working directory.

The code runs in three places: a clone of the repository (the site build, the tests), an installed
wheel (a reader's script, notebook or "Copy this" block in an empty folder), and a reader's own clone.
None of them may depend on the working directory or on a path relative to the repository root.

Sample images (an ImageNet-style folder with ``labels.csv``, or the ``val/`` layout):

1. ``$TUTORIAL_SAMPLES``, when set;
2. ``../shared/data/imagenet-samples`` beside the clone the code is imported from;
3. outside a clone, ``imagenet-samples`` in the cache folder (below), where a reader may put them.

When that folder does not exist, the command line tools say so in one line, and the gallery helpers
fall back to scikit-image's bundled photos, labelled as such.

Caches (exported models, preprocessed images, reference outputs, built plans):

1. ``$TUTORIAL_CACHE_DIR``, when set;
2. ``build/`` of the clone the code is imported from;
3. otherwise ``$XDG_CACHE_HOME/trt-lowprec-tutorial`` (``~/.cache/trt-lowprec-tutorial``).

:func:`shown` turns such a path into what a page may print: relative to the clone or to the sample
folder, never the absolute path of the machine that built the page.
"""

from __future__ import annotations

import os
from pathlib import Path

SAMPLES_ENV = "TUTORIAL_SAMPLES"
CACHE_ENV = "TUTORIAL_CACHE_DIR"
DISTRIBUTION = "trt-lowprec-tutorial"


def checkout_root() -> Path | None:
    """The repository the ``demos`` package is imported from (a clone or an editable install), else None."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "gallery").is_dir() and (root / "demos").is_dir():
        return root
    return None


def default_samples() -> Path | None:
    """``../shared/data/imagenet-samples`` beside the clone, or None outside a clone."""
    root = checkout_root()
    return root.parent / "shared" / "data" / "imagenet-samples" if root else None


def samples_dir() -> Path:
    """The sample image folder to use (it may not exist; see the module docstring)."""
    env = os.environ.get(SAMPLES_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return default_samples() or cache_root() / "imagenet-samples"


def cache_root() -> Path:
    """The folder every cache of the demos lives under (created on first use by the callers)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser().resolve()
    root = checkout_root()
    if root is not None:
        return root / "build"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / DISTRIBUTION


def shown(path: str | os.PathLike) -> str:
    """``path`` as a page may print it: ``$TUTORIAL_SAMPLES/...``, relative to the clone, or its name.

    The sample folder is shown as ``$TUTORIAL_SAMPLES`` when the variable chose it, and as the relative
    ``../shared/data/imagenet-samples`` when the clone's default did.
    """
    p = Path(path).expanduser().resolve()
    samples = samples_dir()
    env = os.environ.get(SAMPLES_ENV)
    if p == samples or samples in p.parents:
        base = (f"${SAMPLES_ENV}" if env else "../shared/data/imagenet-samples" if default_samples()
                else "<cache>/imagenet-samples")
        rest = p.relative_to(samples).as_posix()
        return base if rest == "." else f"{base}/{rest}"
    root = checkout_root()
    if root is not None and (p == root or root in p.parents):
        return p.relative_to(root).as_posix() or "."
    cache = cache_root()
    if p == cache or cache in p.parents:
        return f"<cache>/{p.relative_to(cache).as_posix()}"
    return p.name
