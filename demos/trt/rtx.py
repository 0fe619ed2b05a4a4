"""TensorRT-RTX on a CPU-only machine: the unversioned library its ONNX parser loads.

The ``tensorrt-rtx`` wheel ships ``libtensorrt_rtx.so.1`` but not the unversioned ``libtensorrt_rtx.so``.
The ONNX parser ``dlopen``\\s the unversioned name when it meets a plugin node; if that fails, the process
aborts with a bare ``terminate called without an active exception`` (no Python exception, no message).

The dynamic loader reads ``LD_LIBRARY_PATH`` once, when the process starts, and a library loaded by path
(``ctypes.CDLL``) does not satisfy a later ``dlopen`` of another name, so the fix has to be in place before
Python starts.  This module keeps a symlink ``libtensorrt_rtx.so -> .../libtensorrt_rtx.so.1`` in a cache
folder and gives the environment that puts it on ``LD_LIBRARY_PATH``, for a child process
(:func:`child_env`) or for re-running the current command (:func:`reexec_if_needed`).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from demos.errors import MissingRuntime

UNVERSIONED = "libtensorrt_rtx.so"
VERSIONED = "libtensorrt_rtx.so.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
_GUARD = "DEMOS_TRT_RTX_REEXEC"


def libs_dir() -> Path:
    """The folder of the installed ``tensorrt_rtx_libs`` package (found without importing it)."""
    spec = importlib.util.find_spec("tensorrt_rtx_libs")
    if spec is None or not spec.submodule_search_locations:
        raise MissingRuntime("TensorRT-RTX is not installed: `.venv/bin/pip install -r requirements.txt` "
                             "(tensorrt-rtx-cu13 pins the libraries and bindings)")
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / VERSIONED).is_file():
        raise MissingRuntime(f"{folder} has no {VERSIONED}; reinstall tensorrt-rtx-cu13-libs")
    return folder


def link_dir() -> Path:
    """Where the symlink lives: ``$TRT_RTX_LINK_DIR``, ``.cache/trt_rtx/lib`` in a clone, else the cache
    folder of :mod:`demos.locations` (never inside an installed package)."""
    from demos import locations

    env = os.environ.get("TRT_RTX_LINK_DIR")
    if env:
        return Path(env)
    root = locations.checkout_root()
    return (root / ".cache" if root else locations.cache_root()) / "trt_rtx" / "lib"


def ensure_link() -> Path:
    """Create (or repair) ``link_dir()/libtensorrt_rtx.so``; return the folder."""
    target = libs_dir() / VERSIONED
    folder = link_dir()
    link = folder / UNVERSIONED
    if link.is_symlink() and Path(os.readlink(link)) == target and link.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{UNVERSIONED}.{os.getpid()}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)  # atomic: concurrent processes never see a missing or half-made link
    return folder


def parser_can_load(env: dict | None = None) -> bool:
    """Whether a process started with ``env`` (default: this one) finds ``libtensorrt_rtx.so``.

    The parser searches ``LD_LIBRARY_PATH`` and its own folder (its RPATH is ``$ORIGIN``).
    """
    env = os.environ if env is None else env
    folders = [p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p]
    try:
        folders.append(str(libs_dir()))
    except MissingRuntime:
        return False
    return any((Path(f) / UNVERSIONED).exists() for f in folders)


def child_env(env: dict | None = None) -> dict:
    """A copy of ``env`` (default ``os.environ``) whose ``LD_LIBRARY_PATH`` starts with the symlink folder."""
    env = dict(os.environ if env is None else env)
    folder = str(ensure_link())
    parts = [p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p and p != folder]
    env["LD_LIBRARY_PATH"] = os.pathsep.join([folder, *parts])
    return env


def reexec_if_needed() -> None:
    """Re-run the current command with the symlink on ``LD_LIBRARY_PATH`` unless the parser can load already.

    For command-line entry points only (it replaces the process).  A second failure raises instead of looping.
    """
    if parser_can_load():
        return
    if os.environ.get(_GUARD):
        raise MissingRuntime(f"{UNVERSIONED} is still not loadable after setting LD_LIBRARY_PATH="
                             f"{os.environ.get('LD_LIBRARY_PATH', '')}; check {link_dir()}")
    env = child_env()
    env[_GUARD] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, list(sys.orig_argv), env)
