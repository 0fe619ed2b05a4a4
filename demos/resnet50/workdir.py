"""The demo's working folder: where each stage puts its files, the result records it writes, and what keeps
two runs from mixing.

One model per folder. Layout (``--workdir``, default ``build/demo``)::

    fp32.onnx  fp16.onnx  int8_<calibrator>.onnx  int8_qat.onnx  cpu_int8_*.onnx
    engines/<onnx stem>.<backend>.plan  engines/timing.cache
    cache/     calibration caches (NumPy/JSON, keyed by model hash + data hash + versions)
    results/   one JSON record per stage run (with provenance); the report reads them all
    report.json  report.md  report.png

Nothing stale is used silently:

* Every ONNX file a stage writes carries, as metadata, the SHA-256 of the ``fp32.onnx`` it descends from
  (``demo.fp32_sha256``) and the SHA-256 of all its inputs (``demo.inputs_sha256``: model file, data,
  options, library versions); every record carries the same keys (``inputs``, ``inputs_sha256``,
  ``fp32_sha256``). ``eval`` and ``report`` refuse files and records made from another ``fp32.onnx``.
* A stage takes the folder's lock (:meth:`Workdir.session`, ``flock`` on the folder itself, so it ends with
  the process however it ends): a second stage started in the same folder stops at once with a one-line
  "busy" error instead of overwriting files the first one is writing. While a stage runs, ``.demo.lock``
  names it for that error. The session
  also checks that the folder is a writable folder with enough free space before any slow work, and removes
  the temporary files that a killed run left behind.
* A stage removes its previous record before it writes anything, so an interrupted run never leaves the
  record of the run before it describing files that have since changed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from demos import files, provenance
from demos.errors import UserError

LOCK_NAME = ".demo.lock"
FP32_KEY, INPUTS_KEY = "demo.fp32_sha256", "demo.inputs_sha256"


class Workdir:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def engines(self) -> Path:
        return self.root / "engines"

    def record(self, stage: str, name: str, payload: dict, gpu: bool = False, inputs: dict | None = None,
               fp32_sha256: str | None = None) -> Path:
        """Write ``results/<stage>_<name>.json`` with the payload, the key of its inputs (``inputs``,
        ``inputs_sha256``), the ``fp32.onnx`` it descends from (``fp32_sha256``) and its provenance."""
        body = {"stage": stage, "name": name, **payload}
        if inputs is not None:
            body.update(inputs=inputs, inputs_sha256=files.sha256_json(inputs))
        fp32_sha256 = fp32_sha256 or (inputs or {}).get("fp32_sha256")
        if fp32_sha256:
            body["fp32_sha256"] = fp32_sha256
        body["provenance"] = provenance.collect(gpu=gpu)
        return files.write_json(self.results / f"{stage}_{name}.json", body)

    def forget(self, stage: str, name: str) -> None:
        """Remove the record of an earlier run of ``stage`` before this run changes any file it describes."""
        with contextlib.suppress(FileNotFoundError):
            (self.results / f"{stage}_{name}.json").unlink()

    @contextlib.contextmanager
    def session(self, stage: str, free_bytes: int = 0) -> Iterator["Workdir"]:
        """Hold the folder for one stage: usable, locked, free of stale temporary files.

        Raises a one-line :class:`UserError` when the folder is a file, cannot be written, has less than
        ``free_bytes`` free, or is held by another stage. A folder that had to be created for the stage and
        is still empty afterwards (the stage failed early) is removed again.
        """
        created = _make_folders(self.root)
        fd = None
        holder = self.root / LOCK_NAME  # who holds the folder: read only to say so in the "busy" error
        try:
            _check_writable(self.root, free_bytes)
            fd = os.open(self.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the lock is on the folder itself
            except BlockingIOError:
                try:
                    who = holder.read_text(encoding="utf-8").strip() or "another stage"
                except OSError:
                    who = "another stage"
                os.close(fd)
                fd = None
                raise UserError(f"--workdir {self.root} is busy: {who} is running in it; wait for it to "
                                "finish or use another --workdir") from None
            holder.write_text(f"stage {stage} (pid {os.getpid()})", encoding="utf-8")
            files.remove_stale_temporaries(self.root)
            yield self
        finally:
            if fd is not None:
                with contextlib.suppress(OSError):
                    holder.unlink()
                os.close(fd)  # releases the lock
            _remove_if_empty(created)


def _make_folders(root: Path) -> list[Path]:
    """Create ``root`` and its missing parents; return those created (innermost first)."""
    if root.exists() and not root.is_dir():
        raise UserError(f"--workdir {root} is a file, not a folder; choose a folder")
    missing = []
    p = root
    while not p.exists():
        missing.append(p)
        p = p.parent
    if not p.is_dir():
        raise UserError(f"--workdir {root}: {p} is a file, not a folder; choose another --workdir")
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            pass
        except OSError as exc:
            raise UserError(f"cannot create --workdir {root}: {exc.strerror}") from None
    return missing


def _remove_if_empty(created: list[Path]) -> None:
    for d in created:  # innermost first
        with contextlib.suppress(OSError):
            d.rmdir()


def _check_writable(root: Path, free_bytes: int) -> None:
    try:
        with tempfile.TemporaryFile(dir=root, prefix=f".write-check.{os.getpid()}{files.PARTIAL}"):
            pass
    except OSError as exc:
        why = "read-only" if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) else exc.strerror
        raise UserError(f"--workdir {root} is not writable ({why}); choose a writable folder") from None
    free = shutil.disk_usage(root).free
    if free < free_bytes:
        raise UserError(f"--workdir {root} has {free / 2**20:.0f} MiB free, this stage needs about "
                        f"{free_bytes / 2**20:.0f} MiB; free some space or choose another --workdir")


# --- Lineage: which fp32.onnx, and which inputs, a file or record was made from --------------------------

def stamp(model, fp32_sha256: str | None, inputs: dict) -> None:
    """Write the lineage keys into an ONNX model's metadata (before it is saved)."""
    from demos import onnx_tools

    values = {INPUTS_KEY: files.sha256_json(inputs)}
    if fp32_sha256:
        values.update({FP32_KEY: fp32_sha256, "demo.stage": "derived"})
    onnx_tools.set_metadata(model, values)


def stamp_file(path: str | os.PathLike, fp32_sha256: str | None, inputs: dict) -> None:
    """:func:`stamp` an ONNX file written by a library that does not take metadata (rewritten atomically)."""
    from demos import onnx_tools

    model = onnx_tools.load(path)
    stamp(model, fp32_sha256, inputs)
    onnx_tools.save(model, path)


def fp32_sha256_of(path: str | os.PathLike, model=None) -> str | None:
    """The SHA-256 of the ``fp32.onnx`` that ``path`` descends from: its own hash for an exported FP32 model,
    the ``demo.fp32_sha256`` metadata for a derived one, None for a file without lineage (older demo)."""
    from demos import onnx_tools

    model = model if model is not None else onnx_tools.load(path)
    meta = onnx_tools.metadata(model)
    if FP32_KEY in meta:
        return meta[FP32_KEY]
    if meta.get("demo.stage") == "export":
        return files.sha256_file(path)
    return None


def check_lineage(path: str | os.PathLike, model, fp32: Path, fp32_sha256: str) -> None:
    """Refuse ``path`` unless it was made from the ``fp32`` file whose hash is ``fp32_sha256``."""
    got = fp32_sha256_of(path, model)
    if got is None:
        raise UserError(f"{path} does not say which fp32.onnx it was made from (written by an older version of "
                        "the demo); rerun the stage that writes it")
    if got != fp32_sha256:
        raise UserError(f"{path} was made from another fp32.onnx than {fp32} (an earlier export); rerun the stage "
                        "that writes it, or delete it")


DEFAULT_ROOT = Path("build") / "demo"
