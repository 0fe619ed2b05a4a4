"""Stage ``build``: TensorRT engines from the ONNX files, with whichever TensorRT this machine has.

``--backend auto`` picks TensorRT (``import tensorrt``: 11 strongly typed, or 10) when present, else
TensorRT-RTX, which builds plans ahead of time even on a CPU-only machine (they run on RTX GPUs only).
Each plan ``engines/<model>.<trt|rtx>.plan`` gets a sidecar JSON with what it was built from and for (ONNX
hash, TensorRT version, GPU, batch profile, flags) and the plan's own SHA-256: an engine is up to date, and
not rebuilt, only when both the key and the plan file match (a truncated or replaced plan is rebuilt), and
the runtime refuses an engine from another TensorRT version or GPU. A timing cache per TensorRT version speeds up
rebuilds. Where the runtime can load the engine (TensorRT with a GPU), the engine inspector's per-layer
precision report is written next to it.

The CPU INT8 forms (``cpu_int8_*.onnx``) are for ONNX Runtime only (uint8 activations with zero points,
int32 biases) and are skipped.
"""

from __future__ import annotations

from pathlib import Path

from demos import files, onnx_tools
from demos.errors import MissingRuntime, UserError
from demos.resnet50.workdir import Workdir
from demos.trt import builder, loader, rtx_build

TRT_MODELS = ("fp32", "fp16", "int8_max", "int8_entropy", "int8_percentile", "int8_mse", "int8_qat")


def choose_backend(requested: str) -> str:
    if requested != "auto":
        return requested
    if loader.available():
        return "trt11" if loader.major(loader.tensorrt()) >= 11 else "trt10"
    return "rtx"


def engine_path(wd: Workdir, onnx_path: Path, backend: str, suffix: str = "") -> Path:
    kind = "rtx" if backend == "rtx" else "trt"
    return wd.engines / f"{onnx_path.stem}{suffix}.{kind}.plan"


def _target(backend: str) -> dict:
    if backend == "rtx":
        return {"tensorrt_rtx_version": rtx_build.version(),
                "gpu": None, "note": "ahead-of-time plan; kernels are finalized on the RTX GPU at load time"}
    trt = loader.tensorrt()
    target = {"tensorrt_version": trt.__version__}
    if loader.gpu_reason() is None:
        from demos.trt import runtime

        target.update(runtime.current_target(trt))
    return target


def build_one(wd: Workdir, onnx_path: Path, backend: str, opts: builder.BuildOptions, force: bool = False,
              suffix: str = "") -> dict:
    plan = engine_path(wd, onnx_path, backend, suffix)
    key = {"onnx_sha256": files.sha256_file(onnx_path), "backend": backend, "target": _target(backend),
           "profile": [opts.min_batch, opts.opt_batch, opts.max_batch], "strongly_typed": opts.strongly_typed,
           "trt10_fp16": opts.trt10_fp16, "trt10_int8": opts.trt10_int8, "tf32": opts.tf32}
    side = Path(str(plan) + ".json")
    if not force and plan.exists() and side.exists():
        try:
            old = files.read_json(side)
        except UserError:
            old = {}
        if {k: old.get(k) for k in key} == key and old.get("plan_sha256") == files.sha256_file(plan):
            print(f"{plan.name}: up to date")
            return {**old, "cached": True}
    timing = wd.engines / f"timing.{backend}.cache"
    if backend == "rtx":
        info = rtx_build.build_plan(onnx_path, plan, opts.min_batch, opt_batch=opts.opt_batch, max_batch=opts.max_batch,
                              timing_cache=timing)
    else:
        opts.timing_cache = timing
        data, info = builder.build(loader.tensorrt(), onnx_path, opts)
        files.write_bytes(plan, data)
    record = {**info, **key, "plan": str(plan), "plan_sha256": files.sha256_file(plan)}
    files.write_json(side, record)
    print(f"{onnx_path.name} -> {plan.name}  ({info['layers']} network layers, {info['plan_bytes'] / 1e6:.1f} MB, "
          f"parse {info['parse_seconds']:.2f} s, build {info['build_seconds']:.2f} s)")
    if backend != "rtx" and loader.gpu_reason() is None:
        from demos.trt import runtime

        eng = runtime.Engine(plan)
        try:
            eng.prepare((opts.opt_batch, *_chw(onnx_path)))
            layers = eng.layer_report()
        finally:
            eng.close()
        files.write_json(plan.with_suffix(".layers.json"), layers)
        record["precision_counts"] = layers["precision_counts"]
        print(f"  per-layer precisions: {layers['precision_counts']}  -> {plan.with_suffix('.layers.json').name}")
    elif backend == "rtx":
        record["layer_report"] = "skipped: TensorRT-RTX plans load only on a supported GPU"
    return record


def _chw(onnx_path: Path) -> tuple[int, int, int]:
    model = onnx_tools.load(onnx_path)
    dims = model.graph.input[0].type.tensor_type.shape.dim[1:]
    return tuple(int(d.dim_value) for d in dims)


def add_arguments(p) -> None:
    p.add_argument("--backend", choices=("auto", "trt11", "trt10", "rtx"), default="auto",
                   help="auto: TensorRT if importable, else TensorRT-RTX (builds on CPU)")
    p.add_argument("--models", nargs="+", help=f"model names or ONNX paths (default: those present of {', '.join(TRT_MODELS)})")
    from demos.resnet50.common import positive_float, positive_int

    p.add_argument("--min-batch", type=positive_int, default=1, help="smallest batch of the profile (default 1)")
    p.add_argument("--opt-batch", type=positive_int, default=32, help="batch the builder tunes for (default 32)")
    p.add_argument("--max-batch", type=positive_int, default=256, help="largest batch of the profile (default 256)")
    p.add_argument("--workspace-gib", type=positive_float, default=4.0,
                   help="builder workspace memory limit in GiB (default 4)")
    p.add_argument("--trt10-fp16", action="store_true",
                   help="TensorRT 10 only: also build fp32.onnx with BuilderFlag.FP16 (weak typing)")
    p.add_argument("--force", action="store_true", help="rebuild even if the engine is up to date")


def check_arguments(args) -> None:
    if not args.min_batch <= args.opt_batch <= args.max_batch:
        raise UserError(f"the batch profile needs --min-batch <= --opt-batch <= --max-batch, got "
                        f"{args.min_batch}, {args.opt_batch}, {args.max_batch}")


def run(args) -> list[dict]:
    wd = Workdir(args.workdir)
    backend = choose_backend(args.backend)
    if backend in ("trt10", "trt11"):
        trt = loader.tensorrt()  # raises MissingRuntime with the reason
        if (loader.major(trt) >= 11) != (backend == "trt11"):
            raise MissingRuntime(f"--backend {backend} but the installed TensorRT is {trt.__version__}")
    else:
        rtx_build.import_bindings()
        if not loader.available():
            print(f"TensorRT not available ({loader.missing_reason()}); building TensorRT-RTX plans on this machine")
    if args.trt10_fp16 and backend != "trt10":
        raise UserError("--trt10-fp16 needs TensorRT 10 (BuilderFlag.FP16 was removed in TensorRT 11)")
    if args.models:
        paths = [Path(m) if m.endswith(".onnx") else wd.path(f"{m}.onnx") for m in args.models]
    else:
        paths = [wd.path(f"{m}.onnx") for m in TRT_MODELS if wd.path(f"{m}.onnx").exists()]
        skipped = sorted(p.name for p in wd.root.glob("cpu_int8_*.onnx"))
        if skipped:
            print(f"skipped {', '.join(skipped)}: ONNX Runtime CPU forms, not TensorRT models")
    if not paths:
        raise UserError(f"no ONNX models to build in {wd.root}; run the export/fp16/ptq stages first")
    records = []
    for path in paths:
        onnx_tools.spec_of(onnx_tools.load(path), path)
        opts = builder.BuildOptions(backend, args.min_batch, args.opt_batch, args.max_batch, args.workspace_gib)
        records.append(build_one(wd, path, backend, opts, args.force))
    if args.trt10_fp16:
        opts = builder.BuildOptions("trt10", args.min_batch, args.opt_batch, args.max_batch, args.workspace_gib,
                                    strongly_typed=False, trt10_fp16=True)
        records.append(build_one(wd, wd.path("fp32.onnx"), backend, opts, args.force, suffix="_fp16flag"))
    wd.record("build", backend, {"engines": records})
    return records
