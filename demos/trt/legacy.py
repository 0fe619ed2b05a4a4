"""TensorRT 10's legacy INT8 path: implicit quantization with ``IInt8EntropyCalibrator2`` and a cache.

This is what most deployed TensorRT code still does, and what TensorRT 11 removed: build the FP32 network
with ``BuilderFlag.INT8`` and a calibrator object; TensorRT runs the calibration batches through the network
on the GPU, picks an amax per tensor with its entropy (KL) method, and writes a calibration cache (text:
``TRT-<version>-EntropyCalibration2`` then ``tensor: hex(float32 scale)`` per line) that later builds read
instead of calibrating again. The cache format is also what :mod:`demos.resnet50.qdq` writes for the
project's own calibrators, and what ModelOpt's ONNX PTQ imports (``calibration_cache_path``).

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


def make_calibrator(trt, batches: Iterator[np.ndarray], batch_size: int, cache_path: Path):
    """An ``IInt8EntropyCalibrator2`` that feeds ``batches`` (NCHW float32) and caches its result."""
    import torch

    class EntropyCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self):
            trt.IInt8EntropyCalibrator2.__init__(self)  # pybind11 trampolines need the explicit base __init__
            self.batches = iter(batches)
            self.device = None  # one CUDA tensor, reused for every batch
            self.seen = 0

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
            return cache_path.read_bytes() if cache_path.exists() else None

        def write_calibration_cache(self, cache):
            files.write_bytes(cache_path, bytes(cache))

    return EntropyCalibrator()


def build_with_calibrator(onnx_path, plan_path, batches, batch_size: int, cache_path: Path,
                          timing_cache: Path | None = None) -> dict:
    """FP32 ONNX + BuilderFlag.INT8 + entropy calibrator -> implicitly quantized engine (TensorRT 10)."""
    from demos.trt import builder

    trt = require_trt10()
    calib = make_calibrator(trt, batches, batch_size, Path(cache_path))
    opts = builder.BuildOptions("trt10", 1, batch_size, max(batch_size, 256), strongly_typed=False,
                                trt10_fp16=True, trt10_int8=True, calibrator=calib, timing_cache=timing_cache)
    plan, info = builder.build(trt, onnx_path, opts)
    files.write_bytes(plan_path, plan)
    from demos.trt import runtime

    info.update(calibration_cache=str(cache_path), calibration_images=calib.seen,
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
