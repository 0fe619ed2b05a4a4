"""Atomic file writes, content hashes and verified JSON/NumPy caches.

Every file a stage produces is first written under a temporary name in the same folder and then moved into
place with ``os.replace``, so an interrupted run never leaves a half-written file behind. Caches are plain
JSON/NumPy files (never pickles) that carry the key they were computed for; a cache whose key does not
match is ignored and recomputed, a cache that cannot be read is reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from demos.errors import UserError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it to ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):  # NumPy scalars and arrays
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{what} {path} is not valid JSON ({exc.__class__.__name__}); delete it or rerun the stage that writes it") from None


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=_json_default).encode()).hexdigest()


# --- Verified caches -------------------------------------------------------------------------------------

def save_cache(path: str | os.PathLike, key: dict, arrays: dict | None = None,
               values: dict | None = None) -> Path:
    """Write a cache: ``key`` and ``values`` as JSON inside an ``.npz`` next to the arrays.

    The key (model hash, data hash, library versions, settings) is stored inside the file, so a cache is
    only reused for exactly the inputs it was computed from.
    """
    import numpy as np

    meta = json.dumps({"key": key, "values": values or {}}, sort_keys=True, default=_json_default)
    payload = {f"a/{k}": np.asarray(v) for k, v in (arrays or {}).items()}
    payload["__meta__"] = np.frombuffer(meta.encode(), dtype=np.uint8)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **payload)
    return Path(path)


def load_cache(path: str | os.PathLike, key: dict) -> tuple[dict, dict] | None:
    """Return ``(arrays, values)`` if ``path`` holds a cache for ``key``, else ``None``.

    A missing cache or one computed for another key returns ``None`` (recompute). A cache file that exists
    but cannot be read raises a one-line ``UserError`` naming the file to delete.
    """
    import numpy as np

    path = Path(path)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["__meta__"]).decode())
            if meta.get("key") != json.loads(json.dumps(key, sort_keys=True, default=_json_default)):
                return None
            arrays = {k[2:]: z[k] for k in z.files if k.startswith("a/")}
    except Exception as exc:  # zipfile/ValueError/KeyError/json errors: all mean "corrupt"
        raise UserError(f"cache file {path} is corrupt ({exc.__class__.__name__}); delete it and rerun") from None
    return arrays, meta.get("values", {})
