"""ONNX -> serialized TensorRT engine, for TensorRT 11, TensorRT 10 and TensorRT-RTX.

The three share the builder API; what differs is typing:

* TensorRT 11 builds strongly typed networks only: every tensor has the type the ONNX file gives it, so
  FP16 comes from an FP16 model (ModelOpt AutoCast) and INT8 from explicit Q/DQ nodes.
  ``BuilderFlag.FP16/INT8``, ``int8_calibrator`` and the ``IInt8*Calibrator`` classes are gone.
* TensorRT 10 builds strongly typed networks too (the same files work), and still has weak typing: an FP32
  network plus ``BuilderFlag.FP16`` lets TensorRT pick FP16 kernels where they are faster, and
  ``BuilderFlag.INT8`` plus a calibrator gives implicit quantization (see :mod:`demos.trt.legacy`).
* TensorRT-RTX (``tensorrt_rtx``) builds strongly typed; it compiles ahead of time on any machine, even
  without a GPU, and finishes kernel selection on the user's GPU at load time.

One more typing detail: ``BuilderFlag.TF32`` is on by default, so an "FP32" engine runs its convolutions
and matrix multiplies in TF32 on tensor cores.  The builder clears it unless ``BuildOptions.tf32`` asks for
it, so the FP32 engine is compared with PyTorch's IEEE FP32 row, and a TF32 engine with the TF32 row.

A dynamic batch axis needs an optimization profile (min/opt/max shapes); a network whose inputs are all
static gets none.  A timing cache makes rebuilds fast. ``ProfilingVerbosity.DETAILED`` keeps per-layer
information for the engine inspector.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from demos.errors import UserError
from demos.trt import inspector, loader

FLAVORS = ("trt11", "trt10", "rtx")


@dataclass
class BuildOptions:
    flavor: str  # trt11 | trt10 | rtx
    min_batch: int = 1
    opt_batch: int = 32
    max_batch: int = 256
    workspace_gib: float = 4.0
    strongly_typed: bool = True  # False only for TensorRT 10's weak-typing flags
    trt10_fp16: bool = False  # TensorRT 10: BuilderFlag.FP16 on an FP32 network
    trt10_int8: bool = False  # TensorRT 10: BuilderFlag.INT8 (with a calibrator: implicit quantization)
    calibrator: object = None  # TensorRT 10 IInt8EntropyCalibrator2 instance
    tf32: bool = False  # keep BuilderFlag.TF32 (on by default in TensorRT): FP32 layers may run in TF32
    timing_cache: Path | None = None
    extra: dict = field(default_factory=dict)


def make_logger(trt, echo_warnings: bool = True):
    """A TensorRT logger that keeps the errors, so a failed build can say why in one line."""

    class CollectingLogger(trt.ILogger):
        def __init__(self):
            trt.ILogger.__init__(self)
            self.errors: list[str] = []

        def log(self, severity, msg):
            if int(severity) <= int(trt.ILogger.Severity.ERROR):
                self.errors.append(msg)
            if echo_warnings and int(severity) <= int(trt.ILogger.Severity.WARNING):
                print(f"[TensorRT] {msg}")

    return CollectingLogger()


def network_flags(trt, strongly_typed: bool) -> int:
    """``create_network`` flags: ``STRONGLY_TYPED`` only where it still means something.

    TensorRT 11 and TensorRT-RTX build every network strongly typed; their ``STRONGLY_TYPED`` is deprecated
    and ignored (and may disappear), so only TensorRT 10 gets the flag.
    """
    if not strongly_typed:
        return 0
    if loader.product(trt) != "TensorRT" or loader.major(trt) >= 11:
        return 0
    if not hasattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED"):
        raise UserError(f"TensorRT {trt.__version__} has no strongly typed networks (added in 10.0)")
    return 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)


def parse(trt, builder, logger, onnx_path: Path, strongly_typed: bool):
    network = builder.create_network(network_flags(trt, strongly_typed))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i).desc()) for i in range(parser.num_errors))
        raise UserError(f"TensorRT cannot parse {onnx_path}: {errors[:300] or 'unknown parser error'}")
    return network, parser


def input_profile(trt, builder, network, opts: BuildOptions):
    """One optimization profile over the batch axis of every dynamic input, or None if all are static."""
    profile = None
    for i in range(network.num_inputs):
        t = network.get_input(i)
        shape = list(t.shape)
        if any(d < 0 for d in shape[1:]):
            raise UserError(f"input {t.name} has dynamic non-batch dimensions {shape}; only the batch axis may be dynamic")
        if shape[0] >= 0:
            continue  # static batch: no profile needed for this input
        if not (1 <= opts.min_batch <= opts.opt_batch <= opts.max_batch):
            raise UserError(f"batch profile must satisfy 1 <= min <= opt <= max, got "
                            f"{opts.min_batch}/{opts.opt_batch}/{opts.max_batch}")
        dims = shape[1:]
        if profile is None:
            profile = builder.create_optimization_profile()
        profile.set_shape(t.name, [opts.min_batch, *dims], [opts.opt_batch, *dims], [opts.max_batch, *dims])
    return profile


def build(trt, onnx_path: str | Path, opts: BuildOptions) -> tuple[bytes, dict]:
    """Build and serialize; returns ``(plan bytes, info)``. Raises UserError with TensorRT's message."""
    onnx_path = Path(onnx_path)
    if opts.flavor not in FLAVORS:
        raise ValueError(opts.flavor)
    logger = make_logger(trt)
    builder = trt.Builder(logger)
    t0 = time.perf_counter()
    network, _parser = parse(trt, builder, logger, onnx_path, opts.strongly_typed)
    parse_s = time.perf_counter() - t0

    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(opts.workspace_gib * (1 << 30)))
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED
    profile = input_profile(trt, builder, network, opts)
    if profile is not None:
        config.add_optimization_profile(profile)
    if not opts.tf32:
        config.clear_flag(trt.BuilderFlag.TF32)  # on by default: "FP32" layers would run in TF32

    if opts.flavor == "trt10" and not opts.strongly_typed:
        # The TensorRT 10 way (weak typing). These names do not exist in TensorRT 11.
        trt_major = int(trt.__version__.split(".")[0])
        if trt_major >= 11:
            raise UserError(f"TensorRT {trt.__version__} has no weak typing (BuilderFlag.FP16/INT8 and calibrators "
                            "were removed in TensorRT 11); build an FP16 or Q/DQ ONNX model strongly typed instead")
        if opts.trt10_fp16:
            config.set_flag(trt.BuilderFlag.FP16)
        if opts.trt10_int8:
            config.set_flag(trt.BuilderFlag.INT8)
            if opts.calibrator is not None:
                config.int8_calibrator = opts.calibrator
                if profile is not None:
                    config.set_calibration_profile(profile)  # calibrate at the profile's opt shape
    elif opts.trt10_fp16 or opts.trt10_int8 or opts.calibrator is not None:
        raise UserError("BuilderFlag.FP16/INT8 and calibrators are TensorRT 10 weak typing; "
                        "TensorRT 11 and TensorRT-RTX need an FP16 or Q/DQ ONNX model instead")

    cache = None
    if opts.timing_cache is not None:
        blob = opts.timing_cache.read_bytes() if opts.timing_cache.exists() else b""
        cache = config.create_timing_cache(blob)
        config.set_timing_cache(cache, ignore_mismatch=True)  # a cache from another GPU/version is ignored

    t0 = time.perf_counter()
    plan = builder.build_serialized_network(network, config)
    build_s = time.perf_counter() - t0
    if plan is None:
        raise UserError(f"TensorRT could not build {onnx_path.name}: {'; '.join(logger.errors)[:300] or 'no message'}")
    info = {"flavor": opts.flavor, "tensorrt_version": trt.__version__, "onnx": str(onnx_path),
            "strongly_typed": opts.strongly_typed, "trt10_fp16": opts.trt10_fp16, "trt10_int8": opts.trt10_int8,
            "tf32": opts.tf32,
            "profile": {"min": opts.min_batch, "opt": opts.opt_batch, "max": opts.max_batch} if profile else None,
            "layers": network.num_layers, "parse_seconds": round(parse_s, 3), "build_seconds": round(build_s, 3),
            "plan_bytes": plan.nbytes, "network": inspector.network_precisions(network)}
    if cache is not None:
        from demos import files

        files.write_bytes(opts.timing_cache, bytes(config.get_timing_cache().serialize()))
        info["timing_cache"] = str(opts.timing_cache)
    return bytes(plan), info
