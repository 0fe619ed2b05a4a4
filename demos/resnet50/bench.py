"""Stage ``bench``: latency (p50/p90/p99) and throughput over batch sizes.

Backends:

``ort``        ONNX Runtime on CPU (``--threads``, default 2): the FP32 model, the TensorRT Q/DQ models
               (emulated: slower than FP32) and the CPU INT8 forms (integer kernels). Each result also
               holds ``op_profile``: kernel time per operator kind from ONNX Runtime's profiler
               (:mod:`demos.resnet50.ort_profile`), measured in a separate session after the timed runs.
``torch-cuda`` PyTorch on the GPU, the precision ladder: FP32, TF32, FP16, BF16, channels_last, eager and
               ``torch.compile`` (``max-autotune-no-cudagraphs``, and ``max-autotune`` with CUDA graphs and
               frozen weights, i.e. Conv+BN folded). Input is already preprocessed and on the device, as in
               MLPerf's offline scenario. Needs only PyTorch (torchvision optional: without it a local ResNet50
               definition is used and the output says so).
``torch-cpu``  the same ladder on the CPU (default: eager FP32), for reference and for checking the code.
``trt``        TensorRT engines (``engines/*.trt.plan``) with ``execute_async_v3`` and CUDA graphs.

Method: warm-up, then ``--repeats`` timed runs of ``--iterations`` batches each; throughput from the median
run. A machine busy with other work gives figures, and ratios between models, that mean little: ``bench``
warns (and records ``load_warning``) when the load average exceeds half the number of CPUs. On the GPU, times come from CUDA events (device-side); the latency percentiles come from single-batch
event pairs. Results are written after every configuration (atomically), so a run cut short keeps what it
measured. Each file carries its provenance (CPU/GPU, driver, versions, load average, date).

GPU results are compared with NVIDIA's MLPerf Inference ResNet50 result per GPU (TensorRT, INT8, offline;
:mod:`demos.gpu_speed.mlperf`) and with the compute ceiling of 8.2 GFLOP per image at the datasheet's dense
peak (:mod:`demos.gpu_speed.datasheet`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from demos import files, provenance
from demos.errors import MissingRuntime, UserError

GFLOP_PER_IMAGE = 8.2  # ResNet50 at 224x224: about 4.1 GMACs
# name -> (dtype, channels_last, compile mode or None, freeze weights)
# Order matters for a time-boxed run: the eager ladder (seconds each), then the best configuration, then the
# compiled configuration without CUDA graphs that reproduces the reference figure (each compile: minutes).
TORCH_CONFIGS = {
    "fp32": ("fp32", False, None, False),
    "tf32": ("tf32", False, None, False),
    "tf32_cl": ("tf32", True, None, False),
    "fp16": ("fp16", False, None, False),
    "fp16_cl": ("fp16", True, None, False),
    "bf16_cl": ("bf16", True, None, False),
    "fp16_cl_compile_cg_frozen": ("fp16", True, "max-autotune", True),
    "fp16_cl_compile_nocg": ("fp16", True, "max-autotune-no-cudagraphs", False),
}
DEFAULT_GPU_CONFIGS = list(TORCH_CONFIGS)
BACKENDS = ("ort", "torch-cuda", "torch-cpu", "trt")
# Defaults per backend: the help text and the code read the same tables.
DEFAULT_BATCHES = {"ort": [8], "torch-cpu": [8], "torch-cuda": [256], "trt": [1, 8, 32, 128]}
DEFAULT_ITERATIONS = {"ort": 20, "torch-cpu": 10, "torch-cuda": 50, "trt": 200}
DEFAULT_WARMUP = {"ort": 3, "torch-cpu": 2, "torch-cuda": 10, "trt": 50}
DEFAULT_REPEATS = 5
DEFAULT_ORT_MODELS = ["fp32", "cpu_int8_trt_scales", "cpu_int8_best", "int8_max"]
DEFAULT_THREADS = 2


def _per_backend(table: dict) -> str:
    return ", ".join(f"{' '.join(map(str, v)) if isinstance(v, list) else v} for {k}" for k, v in table.items())


def load_warning(load: float | None = None, cpus: int | None = None) -> str | None:
    """A warning when the 1-minute load average is above half the CPUs (above 1 on a 2-core machine): other
    work then takes CPU time from the benchmark, and even the ratios between models change."""
    load = os.getloadavg()[0] if load is None else load
    cpus = cpus or os.cpu_count() or 1
    if load <= cpus / 2:
        return None
    return (f"load average {load:.1f} on {cpus} CPUs: other work competes with the benchmark, so its figures and "
            "the ratios between models are unreliable; measure on a quiet machine")


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolation percentile (NumPy's default), in plain Python: the GPU bench needs no NumPy."""
    v = sorted(values)
    k = (len(v) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def _stats(per_batch_s: list[float], batch: int, runs_s: list[float], iterations: int) -> dict:
    per = [t * 1e3 for t in per_batch_s]
    median_run = percentile(runs_s, 50)
    return {"batch": batch, "images_per_s": batch * iterations / median_run,
            "ms_per_batch_median": median_run * 1e3 / iterations,
            "latency_ms": {"p50": percentile(per, 50), "p90": percentile(per, 90), "p99": percentile(per, 99)},
            "repeats": len(runs_s), "iterations": iterations,
            "run_spread": float((max(runs_s) - min(runs_s)) / median_run)}


# --- ONNX Runtime on CPU --------------------------------------------------------------------------------

def bench_ort(path: Path, batch: int, threads: int, iterations: int, warmup: int, repeats: int,
              optimization: str = "auto") -> dict:
    import numpy as np

    from demos import onnx_tools
    from demos.resnet50 import ort_profile
    from demos.resnet50.evaluate import is_trt_qdq

    model = onnx_tools.load(path)
    if optimization == "auto":
        optimization = "basic" if is_trt_qdq(model) else "all"
    sess = onnx_tools.session(path, threads=threads, optimization=optimization)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    x = np.random.default_rng(0).standard_normal((batch, *shape)).astype(np.float32)
    for _ in range(warmup):
        onnx_tools.run(sess, x)
    per, runs = [], []
    for _ in range(repeats):
        t_run = time.perf_counter()
        for _ in range(iterations):
            t0 = time.perf_counter()
            onnx_tools.run(sess, x)
            per.append(time.perf_counter() - t0)
        runs.append(time.perf_counter() - t_run)
    del sess  # the profiled session below runs alone
    return {"backend": "ort-cpu", "variant": path.stem, "threads": threads, "ort_graph_optimization": optimization,
            **_stats(per, batch, runs, iterations),
            "op_profile": ort_profile.profile(path, batch, threads, optimization=optimization)}


# --- PyTorch ---------------------------------------------------------------------------------------------

def _torch_model(config: str, device: str, seed: int = 0):
    import torch

    from demos import models

    dtype, channels_last, mode, freeze = TORCH_CONFIGS[config]
    torch.backends.cuda.matmul.allow_tf32 = dtype == "tf32"
    torch.backends.cudnn.allow_tf32 = dtype == "tf32"
    torch.backends.cudnn.benchmark = True
    model, spec = models.build("resnet50", "random", seed=seed)
    tdt = {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
    model = model.to(device=device, dtype=tdt)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    if mode is not None:
        import torch._inductor.config as inductor_config

        inductor_config.freezing = freeze  # fold weights as constants: Conv+BN folding, layout optimization
        model = torch.compile(model, mode=mode)  # compiles lazily, on the first call
    return model, spec, tdt, fmt


class _Timer:
    """Elapsed seconds of a block: CUDA events on the GPU (device-side time), perf_counter on the CPU."""

    def __init__(self, device: str):
        self.cuda = device == "cuda"

    def __enter__(self):
        import torch

        if self.cuda:
            self.start, self.end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            self.start.record()
        else:
            self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if self.cuda:
            self.end.record()
            self.end.synchronize()
            self.seconds = self.start.elapsed_time(self.end) / 1e3
        else:
            self.seconds = time.perf_counter() - self.t0


def bench_torch(config: str, batch: int, iterations: int, warmup: int, repeats: int, device: str = "cuda") -> dict:
    """One configuration of the PyTorch ladder on ``device``; input preprocessed and already on the device."""
    import torch

    model, spec, tdt, fmt = _torch_model(config, device)
    x = torch.randn(batch, 3, 224, 224, device=device, dtype=tdt).contiguous(memory_format=fmt)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    compile_s = None
    with torch.inference_mode():
        if TORCH_CONFIGS[config][2] is not None:
            t0 = time.perf_counter()
            model(x)  # compilation (and autotuning) happens on the first call
            sync()
            compile_s = time.perf_counter() - t0
        for _ in range(warmup):
            model(x)
        sync()
        runs, per = [], []
        for _ in range(repeats):
            with _Timer(device) as t:
                for _ in range(iterations):
                    model(x)
            runs.append(t.seconds)
        for _ in range(min(iterations, 50)):
            with _Timer(device) as t:
                model(x)
            per.append(t.seconds)
    dtype, cl, mode, freeze = TORCH_CONFIGS[config]
    res = {"backend": f"torch-{device}", "variant": config, "dtype": dtype, "channels_last": cl,
           "compile_mode": mode, "freezing": freeze, "compile_seconds": compile_s,
           "weights": spec.weights_label, "model_notes": spec.notes,
           "timing": "CUDA events" if device == "cuda" else "perf_counter", **_stats(per, batch, runs, iterations)}
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return res


def gpu_comparison(results: list[dict], gpu_name: str | None, sm_count: int | None = None) -> dict:
    """Best PyTorch figure vs MLPerf TensorRT INT8 per GPU and vs the compute ceiling."""
    from demos.gpu_speed import datasheet, mlperf

    gpu_results = [r for r in results if r.get("backend") == "torch-cuda" and "images_per_s" in r]
    if not gpu_results:
        return {}
    best = max(gpu_results, key=lambda r: r["images_per_s"])
    out = {"best_config": best["variant"], "best_batch": best["batch"], "best_images_per_s": best["images_per_s"],
           "gflop_per_image": GFLOP_PER_IMAGE,
           "achieved_tflops": best["images_per_s"] * GFLOP_PER_IMAGE / 1e3}
    sheet = datasheet.match_gpu(gpu_name, sm_count)
    if sheet is None:  # no datasheet for this GPU: no ceiling or MLPerf figure to compare with
        return out
    ref = mlperf.for_gpu(sheet.gpu)
    if ref is not None:
        out["mlperf_gpu"] = sheet.gpu
        out["mlperf_round"] = ref.round
        out["mlperf_tensorrt_int8_images_per_s"] = round(ref.per_gpu)
        out["ratio_to_mlperf"] = best["images_per_s"] / ref.per_gpu
    peaks = {dt: sheet.dense_peak(dt) for dt in ("fp32", "tf32", "fp16", "bf16", "int8")}
    out["ceiling_images_per_s"] = {dt: tf * 1e3 / GFLOP_PER_IMAGE for dt, tf in peaks.items()}
    dt = "fp16" if best["dtype"] in ("fp16", "bf16") else best["dtype"]
    out["fraction_of_dense_peak"] = out["achieved_tflops"] / peaks[dt]
    return out


# --- CLI -------------------------------------------------------------------------------------------------

def _machine_key(prov: dict) -> dict:
    """What must not change between the calls of one resumed ladder."""
    gpu = prov.get("gpu") or {}
    return {"gpu": gpu.get("name"), "driver": gpu.get("driver"), "torch": (prov.get("versions") or {}).get("torch"),
            "cpu": (prov.get("host") or {}).get("cpu") if not gpu else None}


def resume_from(out: Path, body: dict) -> set[tuple[str, int]]:
    """Carry the results of an earlier call into ``body``; return the (config, batch) pairs already measured."""
    prev = files.read_json(out, "benchmark to resume")
    if not isinstance(prev, dict) or prev.get("stage") != "bench" or prev.get("backend") != body["backend"]:
        raise UserError(f"{out} is not a bench --backend {body['backend']} result; give --resume the --out of such a run")
    was, now = _machine_key(prev.get("provenance") or {}), _machine_key(body["provenance"])
    if was != now:
        diff = ", ".join(f"{k} {was[k]} -> {now[k]}" for k in was if was[k] != now[k])
        raise UserError(f"{out} was measured on another machine or software ({diff}); write to a new --out instead")
    body["results"] = list(prev.get("results", []))
    body["earlier_calls"] = [*prev.get("earlier_calls", []),
                             {k: prev.get(k) for k in ("wall_seconds", "load_average")}
                             | {"date": (prev.get("provenance") or {}).get("date")}]
    return {(r["variant"], r["batch"]) for r in body["results"]}


def add_arguments(p) -> None:
    from demos.resnet50.common import positive_float, positive_int, nonnegative_int

    p.add_argument("--backend", choices=BACKENDS, default="ort", help="what runs the model (default ort)")
    p.add_argument("--models", nargs="+",
                   help=f"ort: model names or ONNX paths (default: those of {' '.join(DEFAULT_ORT_MODELS)} in the "
                        "workdir); trt: engine names (default: every engine of the workdir)")
    p.add_argument("--configs", nargs="+", default=None, choices=list(TORCH_CONFIGS),
                   help="torch-cuda: configurations of the ladder (default: all); torch-cpu: default fp32")
    p.add_argument("--batch", nargs="+", type=positive_int, default=None,
                   help=f"batch sizes (default {_per_backend(DEFAULT_BATCHES)})")
    p.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS,
                   help=f"CPU threads of ort and torch-cpu (default {DEFAULT_THREADS})")
    p.add_argument("--iterations", type=positive_int, default=None,
                   help=f"timed batches per repeat (default {_per_backend(DEFAULT_ITERATIONS)})")
    p.add_argument("--warmup", type=nonnegative_int, default=None,
                   help=f"untimed batches first (default {_per_backend(DEFAULT_WARMUP)})")
    p.add_argument("--repeats", type=positive_int, default=DEFAULT_REPEATS,
                   help=f"timed runs; throughput is their median (default {DEFAULT_REPEATS})")
    p.add_argument("--ort-optimization", choices=("auto", "basic", "all"), default="auto",
                   help="auto (default): basic (float emulation) for TensorRT Q/DQ models, all otherwise")
    p.add_argument("--buffers", choices=("torch", "cuda-python", "pycuda"), default="torch",
                   help="trt: how device buffers are allocated (default torch)")
    p.add_argument("--time-budget", type=positive_float, default=None,
                   help="seconds; stop starting new configurations after this (results so far are kept)")
    p.add_argument("--out", type=Path, help="result JSON (default WORKDIR/results/bench_<backend>.json)")
    p.add_argument("--resume", action="store_true",
                   help="torch-cuda/torch-cpu: keep the results already in --out (same GPU, driver and torch) and "
                        "measure only the missing configurations; with --time-budget a ladder can span several calls")


def check_arguments(args) -> None:
    if args.resume and args.backend not in ("torch-cuda", "torch-cpu"):
        raise UserError("--resume applies to --backend torch-cuda and torch-cpu")
    if args.out is not None and args.out.is_dir():
        raise UserError(f"--out {args.out} is a folder; give the JSON file name to write")


def run(args) -> dict:
    from demos.resnet50.workdir import Workdir

    wd = Workdir(args.workdir)
    out = args.out or wd.results / f"bench_{args.backend}.json"
    t_start = time.perf_counter()
    gpu = args.backend in ("torch-cuda", "trt")
    body = {"stage": "bench", "backend": args.backend, "results": [], "skipped": [],
            "provenance": provenance.collect(gpu=gpu), "load_average": list(os.getloadavg())}
    warning = load_warning()
    if warning:
        body["load_warning"] = warning
        print(f"warning: {warning}", flush=True)
    iterations = args.iterations or DEFAULT_ITERATIONS[args.backend]
    warmup = DEFAULT_WARMUP[args.backend] if args.warmup is None else args.warmup
    batches = args.batch or DEFAULT_BATCHES[args.backend]

    def save():
        body["wall_seconds"] = round(time.perf_counter() - t_start, 1)
        files.write_json(out, body)

    def over_budget() -> bool:
        return args.time_budget is not None and time.perf_counter() - t_start > args.time_budget

    done: set[tuple[str, int]] = set()
    if args.resume:
        if out.exists():
            done = resume_from(out, body)
            print(f"resuming {out}: {len(done)} configuration(s) kept", flush=True)

    def record(res: dict) -> None:
        body["results"].append(res)
        save()
        lat = res["latency_ms"]
        extra = f"  compile {res['compile_seconds']:.0f} s" if res.get("compile_seconds") else ""
        print(f"{res['backend']:10s} {res['variant']:28s} batch {res['batch']:4d}: {res['images_per_s']:10.1f} img/s  "
              f"latency p50 {lat['p50']:.2f} / p90 {lat['p90']:.2f} / p99 {lat['p99']:.2f} ms{extra}", flush=True)

    if args.backend == "ort":
        from demos import onnx_tools
        from demos.resnet50 import workdir

        names = args.models or DEFAULT_ORT_MODELS
        paths = [Path(m) if m.endswith(".onnx") else wd.path(f"{m}.onnx") for m in names]
        paths = [p for p in paths if p.exists() or args.models]
        if not paths:
            raise UserError(f"no ONNX models in {wd.root}; run the export and ptq stages first")
        lineage = {}
        for p in paths:  # every file is read before the first measurement: a missing one stops nothing half-way
            model = onnx_tools.load(p)
            lineage[p] = {"model_file": str(p), "model_sha256": files.sha256_file(p),
                          "fp32_sha256": workdir.fp32_sha256_of(p, model)}
        for p in paths:
            for b in batches:
                if over_budget():
                    body["skipped"].append(f"{p.stem} batch {b}: time budget")
                    continue
                record({**bench_ort(p, b, args.threads, iterations, warmup, args.repeats, args.ort_optimization),
                        **lineage[p]})
        _cpu_summary(body)
    elif args.backend == "torch-cpu":
        import torch

        torch.set_num_threads(args.threads)
        for config in args.configs or ["fp32"]:
            for b in batches:
                if (config, b) in done:
                    continue
                res = bench_torch(config, b, iterations, warmup, args.repeats, "cpu")
                record({**res, "threads": args.threads})
    elif args.backend == "torch-cuda":
        import torch

        if not torch.cuda.is_available():
            raise MissingRuntime("--backend torch-cuda needs a CUDA GPU (torch.cuda.is_available() is False)")
        configs = args.configs or DEFAULT_GPU_CONFIGS
        from demos import models

        _, spec = models.build("resnet50", "random")
        print(f"ResNet50 ({spec.weights_label}); {'; '.join(spec.notes) or 'torchvision model'}; "
              f"GPU {torch.cuda.get_device_name(0)}, torch {torch.__version__}; inductor cache "
              f"{os.environ.get('TORCHINDUCTOR_CACHE_DIR', 'default (/tmp)')}", flush=True)
        for config, b in [(c, b) for c in configs for b in batches if (c, b) not in done]:
            if over_budget():
                body["skipped"].append(f"{config} batch {b}: time budget")
                print(f"skipped {config} batch {b}: time budget of {args.time_budget:.0f} s used", flush=True)
                save()
                continue
            try:
                record(bench_torch(config, b, iterations, warmup, args.repeats, "cuda"))
            except torch.cuda.OutOfMemoryError:
                body["skipped"].append(f"{config} batch {b}: out of GPU memory")
                torch.cuda.empty_cache()
            except Exception as exc:  # a failing compile must not lose the other configurations
                msg = f"{config} batch {b}: {exc.__class__.__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                body["skipped"].append(msg)
                print(f"failed {msg}", flush=True)
                save()
        # A resumed ladder lists its rungs in ladder order, whichever call measured them.
        body["results"].sort(key=lambda r: (list(TORCH_CONFIGS).index(r["variant"]), r["batch"]))
        gpu = body["provenance"].get("gpu") or {}
        body["comparison"] = gpu_comparison(body["results"], gpu.get("name"), gpu.get("sm_count"))
        _print_gpu_summary(body)
    elif args.backend == "trt":
        from demos.trt import runtime

        reason = runtime.unavailable_reason()
        if reason:
            raise MissingRuntime(f"--backend trt needs TensorRT and a GPU: {reason}")
        names = args.models or sorted(p.name[:-len(".trt.plan")] for p in wd.engines.glob("*.trt.plan"))
        if not names:
            raise UserError(f"no TensorRT engines in {wd.engines}; run the build stage on this machine first")
        for n in names:
            eng = runtime.Engine(wd.engines / f"{n}.trt.plan", args.buffers)
            try:
                chw = tuple(eng.engine.get_tensor_shape(eng.inputs[0]))[1:]
                for b in batches:
                    res = eng.benchmark(b, chw, iterations, warmup, args.repeats)
                    record({"backend": "trt", "variant": n, "buffers": args.buffers, **res})
            finally:
                eng.close()
    save()
    print(f"results -> {out}")
    return body


def _cpu_summary(body: dict) -> None:
    by = {(r["variant"], r["batch"]): r["images_per_s"] for r in body["results"]}
    summary = {}
    for (variant, batch), ips in by.items():
        base = by.get(("fp32", batch))
        if base and variant != "fp32":
            summary[f"{variant}@{batch}"] = ips / base
            print(f"{variant} batch {batch}: {ips / base:.2f}x FP32")
    body["speedup_vs_fp32"] = summary
    for r in body["results"]:
        if "op_profile" in r:
            ms = r["op_profile"]["kernel_ms_per_batch"]
            print(f"  kernel time {r['variant']} batch {r['batch']}: "
                  + ", ".join(f"{kind} {t:.1f} ms" for kind, t in ms.items() if t > 0))


def _print_gpu_summary(body: dict) -> None:
    c = body.get("comparison") or {}
    if not c:
        return
    print(f"best PyTorch: {c['best_config']} batch {c['best_batch']}: {c['best_images_per_s']:.0f} img/s "
          f"= {c['achieved_tflops']:.0f} TFLOPS at {GFLOP_PER_IMAGE} GFLOP/image")
    if "ratio_to_mlperf" in c:
        print(f"ratio to MLPerf TensorRT INT8 per {c['mlperf_gpu']} ({c['mlperf_tensorrt_int8_images_per_s']:,} img/s): "
              f"{c['ratio_to_mlperf']:.3f}")
    if "ceiling_images_per_s" in c:
        ceil = c["ceiling_images_per_s"]
        print(f"compute ceiling at dense peak: FP16 {ceil['fp16']:,.0f} img/s, INT8 {ceil['int8']:,.0f} img/s; "
              f"best config reaches {100 * c['fraction_of_dense_peak']:.1f}% of its dtype's peak")
