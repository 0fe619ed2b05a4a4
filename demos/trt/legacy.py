"""TensorRT 10's legacy INT8 path: implicit quantization with ``IInt8EntropyCalibrator2`` and a cache.

This is what most deployed TensorRT code still does, and what TensorRT 11 removed: build the FP32 network
with ``BuilderFlag.INT8`` and a calibrator object; TensorRT runs the calibration batches through the network
on the GPU, picks an amax per tensor with its entropy (KL) method, and writes a calibration cache (text:
``TRT-<version>-EntropyCalibration2`` then ``tensor: hex(float32 scale)`` per line) that later builds read
instead of calibrating again.  ``<version>`` is TensorRT's ``NV_TENSORRT_VERSION`` (101601 for 10.16.1, see
:func:`version_code`).

A cache is only valid for the network and the TensorRT version that wrote it, and TensorRT cannot tell a
cache of another model: ``read_calibration_cache`` would hand it over and TensorRT would build with wrong
scales.  So every cache written here gets a key file beside it (``<cache>.json``: the ONNX file's SHA-256, the
TensorRT version, batch size and algorithm) and is only read back when the key matches.

The caches the ``ptq`` stage writes next to its Q/DQ models (:func:`demos.resnet50.qdq.calibration_cache_text`)
use the same text format but are not TensorRT caches: they hold the amax of the Q/DQ activations only, for
ModelOpt's ``calibration_cache_path`` import and for reading; their header names the installed TensorRT
version, or 0 where none is installed (:func:`cache_header`).

Runs only where ``import tensorrt`` gives TensorRT < 11 and a GPU is present; otherwise the functions raise
:class:`~demos.errors.MissingRuntime` with the reason.
"""

# trt-api: 10
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from demos import files
from demos.errors import MissingRuntime


def require_trt10():
    from demos.trt import loader

    trt = loader.tensorrt()
    if loader.major(trt) >= 11 or not hasattr(trt, "IInt8EntropyCalibrator2"):
        raise MissingRuntime(f"IInt8EntropyCalibrator2 was removed in TensorRT 11 (found {trt.__version__}); "
                             "use Q/DQ models from the ptq stage instead")
    reason = loader.gpu_reason()
    if reason:
        raise MissingRuntime(f"TensorRT calibration runs on the GPU: {reason}")
    return trt


ALGORITHM = "EntropyCalibration2"


def version_code(version: str) -> int:
    """TensorRT's ``NV_TENSORRT_VERSION`` for a version string, the number in a calibration cache's header.

    ``include/NvInferRuntimeBase.h``: major * 10000 + minor * 100 + patch since TensorRT 10
    (``NV_TENSORRT_VERSION_INT``), major * 1000 + minor * 100 + patch before (8.6.1 -> 8601).
    """
    major, minor, patch = ([int(p) for p in version.split(".")[:3]] + [0, 0])[:3]
    return major * (10000 if major >= 10 else 1000) + minor * 100 + patch


def cache_header(version: str | None = None, algorithm: str = ALGORITHM) -> str:
    """The first line of a calibration cache: the given TensorRT version, else the installed one, else 0.

    0 says that no TensorRT wrote the file; TensorRT itself refuses a cache whose version is not its own
    and calibrates again, which is what should happen with a cache that lists only Q/DQ activations.
    """
    if version is None:
        from demos.trt import loader

        version = loader.tensorrt().__version__ if loader.available() and loader.product(loader.tensorrt()) == "TensorRT" else None
    return f"TRT-{version_code(version) if version else 0}-{algorithm}"


def cache_key(onnx_path, trt_version: str, batch_size: int, algorithm: str = ALGORITHM) -> dict:
    """What a calibration cache depends on: the network (ONNX hash), TensorRT version, batch, algorithm."""
    return {"onnx_sha256": files.sha256_file(onnx_path), "tensorrt_version": trt_version, "batch_size": batch_size,
            "algorithm": algorithm}


def read_cache(cache_path: Path, key: dict) -> tuple[bytes | None, str]:
    """(cache bytes, why) if ``cache_path`` exists and its key file matches ``key``; (None, why not) else."""
    cache_path = Path(cache_path)
    side = Path(str(cache_path) + ".json")
    if not cache_path.is_file():
        return None, "no cache yet"
    if not side.is_file():
        return None, f"{cache_path.name} has no key file ({side.name}); calibrating again"
    try:
        old = files.read_json(side)
    except Exception:  # a corrupt key file: calibrate again rather than trust the cache
        return None, f"{side.name} is unreadable; calibrating again"
    changed = [k for k in key if old.get(k) != key[k]]
    if changed:
        return None, f"{cache_path.name} was written for another {', '.join(changed)}; calibrating again"
    return cache_path.read_bytes(), "reused"


def write_cache(cache_path: Path, key: dict, cache: bytes) -> None:
    files.write_bytes(cache_path, cache)
    files.write_json(str(cache_path) + ".json", key)  # after the cache: a key never vouches for an old cache


def make_calibrator(trt, batches: Iterator[np.ndarray], batch_size: int, cache_path: Path, key: dict | None = None):
    """An ``IInt8EntropyCalibrator2`` that feeds ``batches`` (NCHW float32) and caches its result.

    ``key`` (:func:`cache_key`) ties the cache to one network and TensorRT version; without it the cache is
    never read back.
    """
    import torch

    class EntropyCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self):
            trt.IInt8EntropyCalibrator2.__init__(self)  # pybind11 trampolines need the explicit base __init__
            self.batches = iter(batches)
            self.device = None  # one CUDA tensor, reused for every batch
            self.seen = 0
            self.cache_status = "not read"

        def get_batch_size(self):
            return batch_size

        def get_batch(self, names):
            x = next(self.batches, None)
            if x is None:
                return None  # tells TensorRT calibration is done
            if len(x) != batch_size:
                return None  # the calibration profile fixes the batch size; drop a short last batch
            t = torch.from_numpy(np.ascontiguousarray(x, np.float32))
            if self.device is None:
                self.device = torch.empty_like(t, device="cuda")
            self.device.copy_(t)
            self.seen += len(x)
            return [int(self.device.data_ptr())]

        def read_calibration_cache(self):
            # Returning the cache skips calibration: only valid for the same network and TensorRT version.
            if key is None:
                self.cache_status = "no key: calibrating"
                return None
            data, self.cache_status = read_cache(cache_path, key)
            return data

        def write_calibration_cache(self, cache):
            if key is not None:
                write_cache(cache_path, key, bytes(cache))

    return EntropyCalibrator()


def build_with_calibrator(onnx_path, plan_path, batches, batch_size: int, cache_path: Path,
                          timing_cache: Path | None = None) -> dict:
    """FP32 ONNX + BuilderFlag.INT8 + entropy calibrator -> implicitly quantized engine (TensorRT 10)."""
    from demos.trt import builder

    trt = require_trt10()
    key = cache_key(onnx_path, trt.__version__, batch_size)
    calib = make_calibrator(trt, batches, batch_size, Path(cache_path), key)
    opts = builder.BuildOptions("trt10", 1, batch_size, max(batch_size, 256), strongly_typed=False,
                                trt10_fp16=True, trt10_int8=True, calibrator=calib, timing_cache=timing_cache)
    plan, info = builder.build(trt, onnx_path, opts)
    files.write_bytes(plan_path, plan)
    from demos.trt import runtime

    info.update(calibration_cache=str(cache_path), calibration_cache_status=calib.cache_status,
                calibration_images=calib.seen,
                onnx_sha256=files.sha256_file(onnx_path), target=runtime.current_target(trt))
    files.write_json(str(plan_path) + ".json", info)  # what demos.trt.runtime checks before loading
    return info


def calibrate_from_args(onnx_path, wd, items, args) -> dict:
    """The ``ptq --trt10-legacy`` entry: calibrate with TensorRT 10 or say exactly what was skipped."""
    from demos import data, onnx_tools

    try:
        require_trt10()
    except MissingRuntime as exc:
        print(f"skipped TensorRT 10 legacy calibration: {exc}")
        return {"skipped": str(exc)}
    spec = onnx_tools.spec_of(onnx_tools.load(onnx_path), onnx_path)
    batch = 8
    batches = (x for x, _ in data.batches(items, spec.preprocess, batch, progress="TensorRT 10 calibration"))
    plan = wd.engines / "fp32_int8_legacy.trt.plan"
    info = build_with_calibrator(onnx_path, plan, batches, batch, wd.path("trt10_entropy.calib.cache"),
                                 wd.engines / "timing.trt10.cache")
    print(f"TensorRT 10 implicit INT8 engine -> {plan} (cache {info['calibration_cache']})")
    return info
