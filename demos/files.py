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
import math
import os
import re
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

from demos.errors import UserError


#: Every temporary file of this tool is named ``.<final name>.<pid>.partial-<random><suffix>``: the marker
#: lets :func:`remove_stale_temporaries` recognise them, the pid tells whether their writer is still alive.
PARTIAL = ".partial-"
_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>\d+)\.partial-[^/]*$")


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM until the block ends, then deliver them, so that a Ctrl-C cannot fall between
    creating a temporary file and remembering its name. (Python runs signal handlers in the main thread
    only, so there is nothing to hold in another thread.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: held.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        for s in dict.fromkeys(held):
            signal.raise_signal(s)  # now handled as it would have been (KeyboardInterrupt, Terminated, ...)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it to ``path`` only if the block succeeds."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder; give a file name to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"cannot write {path}: {path.parent} is a file, not a folder") from None
    except OSError as exc:
        raise UserError(f"cannot create the folder {path.parent}: {exc.strerror}") from None
    tmp = None
    try:
        with _signals_deferred():  # the file exists only once ``tmp`` names it, so ``finally`` removes it
            try:
                fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}{PARTIAL}", suffix=suffix or ".tmp",
                                            dir=path.parent)
            except OSError as exc:
                raise UserError(f"cannot write in {path.parent}: {exc.strerror}") from None
            tmp = Path(name)
        os.close(fd)
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files of this tool under ``folder`` whose writing process no longer runs.

    A process killed with SIGKILL (or a child killed by its parent) cannot clean up after itself; the next
    stage run in the same folder does. Files of a live process are left alone. Returns what was removed.
    """
    removed = []
    root = Path(folder)
    if not root.is_dir():
        return removed
    for p in root.rglob(f".*{PARTIAL}*"):
        m = _TEMP_NAME.match(p.name)
        if not m or not p.is_file() or _alive(int(m["pid"])):
            continue
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


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
    """Write ``obj`` as strict JSON (RFC 8259): a NaN or infinity becomes ``null``, never a bare ``NaN``."""
    return write_text(path, dumps(obj, indent=2) + "\n")


def dumps(obj: Any, **kwargs) -> str:
    """``json.dumps`` that every reader accepts: NumPy values as numbers/lists, non-finite floats as ``null``."""
    return json.dumps(finite(obj), allow_nan=False, default=_json_default, **kwargs)


def finite(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float (also inside NumPy values) replaced by ``None``."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):
        return finite(obj.tolist())
    return obj


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):  # NumPy scalars and arrays
        return finite(obj.tolist())
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def loads(text: str) -> Any:
    """Strict JSON: ``NaN``, ``Infinity`` and ``-Infinity`` are refused (ValueError), as by every other reader."""
    return json.loads(text, parse_constant=_no_constant)


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} not found: {path}")
    try:
        return loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        raise UserError(f"{what} {path} is not valid JSON ({exc.__class__.__name__}); delete it or rerun the stage that writes it") from None


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_json(obj: Any) -> str:
    """SHA-256 of ``obj`` as canonical JSON (sorted keys): the key of a set of inputs."""
    return hashlib.sha256(dumps(obj, sort_keys=True).encode()).hexdigest()


# --- Verified caches -------------------------------------------------------------------------------------

def save_cache(path: str | os.PathLike, key: dict, arrays: dict | None = None,
               values: dict | None = None) -> Path:
    """Write a cache: ``key`` and ``values`` as JSON inside an ``.npz`` next to the arrays.

    The key (model hash, data hash, library versions, settings) is stored inside the file, so a cache is
    only reused for exactly the inputs it was computed from.
    """
    import numpy as np

    meta = dumps({"key": key, "values": values or {}}, sort_keys=True)
    payload = {f"a/{k}": np.asarray(v) for k, v in (arrays or {}).items()}
    payload["__meta__"] = np.frombuffer(meta.encode(), dtype=np.uint8)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **payload)
    return Path(path)


def load_cache(path: str | os.PathLike, key: dict, rows: dict[str, int] | None = None) -> tuple[dict, dict] | None:
    """Return ``(arrays, values)`` if ``path`` holds a cache for ``key``, else ``None``.

    A missing cache or one computed for another key returns ``None`` (recompute). A cache file that exists
    but cannot be read, or whose arrays do not have the number of rows given in ``rows`` (array name ->
    rows), raises a one-line ``UserError`` naming the file to delete.
    """
    import numpy as np

    path = Path(path)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = loads(bytes(z["__meta__"]).decode())
            if meta.get("key") != loads(dumps(key, sort_keys=True)):
                return None
            arrays = {k[2:]: z[k] for k in z.files if k.startswith("a/")}
    except Exception as exc:  # zipfile/ValueError/KeyError/json errors: all mean "corrupt"
        raise UserError(f"cache file {path} is corrupt ({exc.__class__.__name__}); delete it and rerun") from None
    for name, n in (rows or {}).items():
        got = arrays.get(name)
        if got is None or got.ndim == 0 or len(got) != n:
            found = "missing" if got is None else f"{0 if got.ndim == 0 else len(got)} rows"
            raise UserError(f"cache file {path} is inconsistent ({name}: {found}, expected {n}); delete it and rerun")
    return arrays, meta.get("values", {})
