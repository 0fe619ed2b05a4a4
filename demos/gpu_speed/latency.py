"""ResNet50 latency on a GPU: batch 1 and a batch sweep, eager PyTorch, CUDA graphs and ``torch.compile``.

``python3 -m demos.gpu_speed.latency --out RESULT.json`` measures, for each configuration and batch size:

* **latency**: one request at a time. The host clock runs from the call until the result is ready
  (``synchronize`` on an event recorded after the work), so launch overhead and host-side Python count, as they
  do for a client waiting for an answer. Reported as p50/p90/p99 over hundreds of requests; the GPU-side time
  between two CUDA events around the same call is recorded too. Every request reads a different input
  (a pool of several, rotated), already preprocessed and on the device.
* **throughput**: many requests queued back to back, timed with CUDA events: what a server with a full queue
  gets (the launch overhead of one batch hides behind the GPU work of the previous one).

Configurations (:data:`CONFIGS`): FP32 (TF32 off) and FP16 (channels-last), each in eager PyTorch and replayed
as one CUDA graph, and FP16 compiled with ``torch.compile`` (Inductor with frozen weights, i.e. Conv+BN folded)
without and with CUDA graphs (``mode="reduce-overhead"``). Batch 1 of every configuration comes first, then the
sweep over the other batch sizes, eager and graphed configurations before the compiled one (it compiles once
per batch size, which takes the longest); the compiled configuration without CUDA graphs is measured at
batch 1 only unless ``--full-sweep``. ``--time-budget`` stops starting new measurements after that
many seconds; ``--resume`` keeps what an earlier call wrote to ``--out`` (same GPU, driver and PyTorch) and
measures only what is missing, so a sweep longer than one call of the GPU machine is measured in several.
The file is written (atomically) after every measurement.

Every configuration's output on eight fixed images is checked against the same network in float64.
Without a GPU the command stops with a one-line error; ``--device cpu`` runs the eager and compiled paths on
the CPU with a wall clock, a smoke test of the code and not a measurement to report.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from demos.errors import UserError, run_cli
from demos.gpu_speed import results

SCHEMA = "demos.gpu_speed.latency/1"
BATCHES = (1, 8, 32, 128, 256)
CHECK_IMAGES = 8
PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class Config:
    dtype: str  # fp32 (IEEE: TF32 off) or fp16
    channels_last: bool
    executor: str  # eager | cuda_graph | compile
    compile_mode: str | None = None  # torch.compile mode ("default" or "reduce-overhead")

    @property
    def compiled(self) -> bool:
        return self.executor == "compile"

    @property
    def graphed(self) -> bool:
        return self.executor == "cuda_graph" or self.compile_mode == "reduce-overhead"


CONFIGS = {
    "fp32_eager": Config("fp32", False, "eager"),
    "fp32_cuda_graph": Config("fp32", False, "cuda_graph"),
    "fp16_eager": Config("fp16", True, "eager"),
    "fp16_cuda_graph": Config("fp16", True, "cuda_graph"),
    "fp16_compile": Config("fp16", True, "compile", "default"),
    "fp16_compile_cuda_graph": Config("fp16", True, "compile", "reduce-overhead"),
}
# Largest acceptable relative L2 error of the logits against float64, per data type.
TOLERANCE = {"fp32": 1e-3, "fp16": 2e-2}


# --- Planning ---------------------------------------------------------------------------------------------

# Configurations measured at the first batch size only, unless --full-sweep: the compiled configuration
# without CUDA graphs adds a compile per batch size and little that the other rows do not show.
FIRST_BATCH_ONLY = ("fp16_compile",)


def plan(configs: list[str], batches: list[int], full_sweep: bool = False) -> list[tuple[str, int]]:
    """The order of the measurements: batch 1 first (the headline), then the sweep, compiled configurations
    last (each compiles once per batch size)."""
    first = [(c, b) for b in batches[:1] for c in configs]
    swept = [c for c in configs if full_sweep or c not in FIRST_BATCH_ONLY]
    rest = [(c, b) for compiled in (False, True) for c in swept if CONFIGS[c].compiled == compiled
            for b in batches[1:]]
    return first + rest


def pool_size(batch: int) -> int:
    """How many distinct inputs each configuration rotates through: many small ones, a few large ones."""
    return 8 if batch <= 32 else 3


# --- Statistics -------------------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """Linear-interpolation percentile (NumPy's default), in plain Python."""
    v = sorted(values)
    k = (len(v) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def summarize(seconds: list[float]) -> dict:
    """p50/p90/p99, mean, min and max of per-request times, in milliseconds."""
    ms = [s * 1e3 for s in seconds]
    out = {f"p{q}": percentile(ms, q) for q in PERCENTILES}
    out.update(mean=statistics.fmean(ms), min=min(ms), max=max(ms))
    return out


def sample_count(per_call_s: float, seconds: float, lo: int = 200, hi: int = 2000) -> int:
    """Requests to time: enough for a p99 (at least ``lo``), at most ``hi``, about ``seconds`` of work."""
    return int(min(hi, max(lo, seconds / max(per_call_s, 1e-9))))


# --- The network, its inputs and the executors --------------------------------------------------------------

def build_model(torch, seed: int = 0):
    """ResNet50 with seeded random weights (speed does not depend on the weights) and its spec."""
    from demos import models

    return models.build("resnet50", "random", seed=seed)


def make_inputs(torch, batch: int, image_size: int, count: int, device, dtype, channels_last: bool, seed: int):
    """``count`` distinct random batches; the first rows of the first one are the fixed check images."""
    gen = torch.Generator(device="cpu").manual_seed(seed + batch)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    check = check_images(torch, image_size, seed)
    pool = []
    for i in range(count):
        x = torch.randn(batch, 3, image_size, image_size, generator=gen)
        if i == 0:
            n = min(batch, CHECK_IMAGES)
            x[:n] = check[:n]
        pool.append(x.to(device=device, dtype=dtype).contiguous(memory_format=fmt))
    return pool


def check_images(torch, image_size: int, seed: int):
    return torch.randn(CHECK_IMAGES, 3, image_size, image_size, generator=torch.Generator().manual_seed(seed))


def reference_logits(torch, model, image_size: int, seed: int, device):
    """The network in float64 on the check images: the reference every configuration is compared with."""
    import copy

    ref = copy.deepcopy(model).to(device=device, dtype=torch.float64)
    with torch.inference_mode():
        out = ref(check_images(torch, image_size, seed).to(device=device, dtype=torch.float64))
    del ref
    return out.cpu()


def rel_l2(torch, got, want) -> float:
    got, want = got.double().cpu(), want.double().cpu()
    return float(torch.linalg.vector_norm(got - want) / torch.linalg.vector_norm(want))


def set_math(torch) -> None:
    """IEEE FP32 for the fp32 configurations (no TF32 in convolutions or matmuls); cuDNN picks its fastest
    algorithm for each shape (``benchmark``), as an inference engine does."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True


def cuda_graph_runner(torch, model, example):
    """Capture one forward pass into a CUDA graph; the runner copies its input in and replays the graph.

    Warm-up runs on a side stream first, as PyTorch's documentation asks (cuDNN's algorithm search and lazy
    initialisation must not happen during capture)."""
    static_in = example.clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            model(static_in)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = model(static_in)

    def run(x):
        static_in.copy_(x)
        graph.replay()
        return static_out

    run.graph = graph  # keep the graph (and its memory pool) alive with the runner
    return run


# --- Timing -----------------------------------------------------------------------------------------------

class Clock:
    """Per-request host time (perf_counter around the call and the wait for its result) and, on CUDA, the
    device time between two events recorded around the same call."""

    def __init__(self, torch, cuda: bool):
        self.torch, self.cuda = torch, cuda

    def synchronize(self) -> None:
        if self.cuda:
            self.torch.cuda.synchronize()

    def request(self, fn, x) -> tuple[float, float | None]:
        if not self.cuda:
            t0 = time.perf_counter()
            fn(x)
            return time.perf_counter() - t0, None
        start, end = self.torch.cuda.Event(enable_timing=True), self.torch.cuda.Event(enable_timing=True)
        t0 = time.perf_counter()
        start.record()
        fn(x)
        end.record()
        end.synchronize()
        host = time.perf_counter() - t0
        return host, start.elapsed_time(end) / 1e3

    def queued(self, fn, pool, calls: int) -> float:
        """Seconds for ``calls`` requests issued back to back (device time on CUDA)."""
        if self.cuda:
            start, end = self.torch.cuda.Event(enable_timing=True), self.torch.cuda.Event(enable_timing=True)
            start.record()
            for i in range(calls):
                fn(pool[i % len(pool)])
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1e3
        t0 = time.perf_counter()
        for i in range(calls):
            fn(pool[i % len(pool)])
        return time.perf_counter() - t0


def time_requests(fn, pool, clock: Clock, seconds: float, warmup_s: float, min_samples: int = 200,
                  max_samples: int = 2000) -> dict:
    """Warm up, then time single requests (latency) and queued requests (throughput)."""
    calls, t0 = 0, time.perf_counter()
    while True:
        fn(pool[calls % len(pool)])
        calls += 1
        clock.synchronize()
        elapsed = time.perf_counter() - t0
        if calls >= 5 and elapsed >= warmup_s:
            break
    per_call = elapsed / calls
    n = sample_count(per_call, seconds, min_samples, max_samples)
    host, device = [], []
    for i in range(n):
        h, d = clock.request(fn, pool[i % len(pool)])
        host.append(h)
        if d is not None:
            device.append(d)
    queued_calls = max(min(10, min_samples), min(1000, int(seconds / 2 / max(per_call, 1e-9))))
    runs = [clock.queued(fn, pool, queued_calls) for _ in range(3)]
    out = {"latency_ms": summarize(host), "samples": n, "warmup_calls": calls,
           "queued_calls": queued_calls, "queued_runs_s": runs}
    if device:
        out["gpu_ms"] = summarize(device)
    return out


# --- One measurement --------------------------------------------------------------------------------------

def measure_case(torch, name: str, batch: int, device, ref, *, image_size: int = 224, seed: int = 0,
                 seconds: float = 2.0, warmup_s: float = 1.0, compile_backend: str = "inductor",
                 min_samples: int = 200) -> dict:
    """Measure one (configuration, batch size) pair. Returns a JSON-ready record; a configuration the
    machine refuses (out of memory, a failed compile or capture) becomes a record with ``error``."""
    cfg = CONFIGS[name]
    cuda = device.type == "cuda"
    rec = {"config": name, "batch": batch, **asdict(cfg)}
    if cfg.executor == "cuda_graph" and not cuda:
        return {**rec, "skipped": "CUDA graphs need a CUDA device"}
    set_math(torch)
    tdt = {"fp32": torch.float32, "fp16": torch.float16}[cfg.dtype]
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model = fn = pool = out = None
    freezing_before = None
    try:
        # Weights and inputs are ordinary tensors; everything that runs the network runs in inference mode,
        # capture and compilation included (a graph captured in one mode and replayed in another can fail).
        model, _ = build_model(torch, seed)
        model = model.to(device=device, dtype=tdt).to(memory_format=fmt)
        pool = make_inputs(torch, batch, image_size, pool_size(batch), device, tdt, cfg.channels_last, seed)
        with torch.inference_mode():
            setup_s = None
            t0 = time.perf_counter()
            if cfg.executor == "eager":
                fn = model
            elif cfg.executor == "cuda_graph":
                fn = cuda_graph_runner(torch, model, pool[0])
                setup_s = time.perf_counter() - t0
            else:
                import torch._inductor.config as inductor_config

                freezing_before = inductor_config.freezing
                inductor_config.freezing = True  # weights as constants: Conv+BN folded, layouts chosen once
                if compile_backend == "inductor":
                    fn = torch.compile(model, mode=cfg.compile_mode, dynamic=False)
                else:  # tests: dynamo's tracing without Inductor's code generation
                    fn = torch.compile(model, backend=compile_backend, dynamic=False)
                fn(pool[0])  # compiles (and, with reduce-overhead, starts recording the graph)
                if cuda:
                    torch.cuda.synchronize()
                setup_s = time.perf_counter() - t0
            out = fn(pool[0])
            logits = out[:min(batch, CHECK_IMAGES)].float().cpu()
            err = rel_l2(torch, logits, ref[:min(batch, CHECK_IMAGES)])
            finite = bool(torch.isfinite(logits).all())
            rec["check"] = {"rel_l2_vs_float64": err, "tolerance": TOLERANCE[cfg.dtype],
                            "passed": finite and err <= TOLERANCE[cfg.dtype], "images": int(logits.shape[0])}
            out = None  # a CUDA-graph output is overwritten by the next replay: keep no reference to it
            timing = time_requests(fn, pool, Clock(torch, cuda), seconds, warmup_s, min_samples=min_samples)
        runs = timing.pop("queued_runs_s")
        median_run = statistics.median(runs)
        rec.update(timing, setup_s=setup_s, inputs_rotated=len(pool),
                   throughput_images_per_s=batch * timing["queued_calls"] / median_run,
                   queued_run_spread=(max(runs) - min(runs)) / median_run)
    except Exception as exc:  # noqa: BLE001 - one refusal must not lose the other measurements
        rec["error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}"
    finally:
        if freezing_before is not None:
            import torch._inductor.config as inductor_config

            inductor_config.freezing = freezing_before
        del model, fn, pool, out
        if cfg.compiled:
            torch._dynamo.reset()
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()
    return rec


# --- The result document ----------------------------------------------------------------------------------

def problems(doc) -> list[str]:
    """Everything wrong with a latency result (empty when it is valid)."""
    _positive = results.positive

    out, records = results.records_problems(doc, SCHEMA)
    if not records:
        return out
    measured = 0
    seen = set()
    for i, rec in enumerate(records):
        where = f"records[{i}]"
        if not isinstance(rec, dict) or rec.get("config") not in CONFIGS or not _positive(rec.get("batch")) \
                or not isinstance(rec.get("batch"), int):
            out.append(f"{where}: needs a known config and a positive integer batch")
            continue
        key = (rec["config"], rec["batch"])
        where = f"{where} ({key[0]}, batch {key[1]})"
        if key in seen:
            out.append(f"{where}: measured twice")
        seen.add(key)
        if "error" in rec or "skipped" in rec:
            continue
        measured += 1
        lat = rec.get("latency_ms")
        if not isinstance(lat, dict) or not all(_positive(lat.get(k)) for k in ("p50", "p90", "p99", "min", "mean")):
            out.append(f"{where}: latency_ms needs positive p50, p90, p99, min and mean")
        elif not lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"]:
            out.append(f"{where}: latency percentiles are not ordered (min <= p50 <= p90 <= p99)")
        if not _positive(rec.get("throughput_images_per_s")):
            out.append(f"{where}: throughput_images_per_s must be a positive number")
        if not isinstance(rec.get("samples"), int) or rec["samples"] < 1:
            out.append(f"{where}: samples must be a positive integer")
        if not isinstance(rec.get("check"), dict) or "passed" not in rec["check"]:
            out.append(f"{where}: the correctness check is missing")
    if not measured:
        out.append("no configuration was measured (all failed or were skipped)")
    return out


def rows(doc: dict) -> dict[tuple[str, int], dict]:
    """Measured records by (config, batch)."""
    return {(r["config"], r["batch"]): r for r in doc["records"] if "latency_ms" in r}


def batch1_summary(doc: dict) -> list[dict]:
    """Batch-1 latency of every measured configuration, with its speed-up over eager FP32 (p50)."""
    by = rows(doc)
    base = by.get(("fp32_eager", 1))
    out = []
    for name in CONFIGS:
        rec = by.get((name, 1))
        if rec is None:
            continue
        lat = rec["latency_ms"]
        out.append({"config": name, "p50_ms": lat["p50"], "p99_ms": lat["p99"],
                    "gpu_p50_ms": (rec.get("gpu_ms") or {}).get("p50"),
                    "speedup_vs_fp32_eager": base["latency_ms"]["p50"] / lat["p50"] if base else None,
                    "passed": rec["check"]["passed"]})
    return out


def sweep(doc: dict, name: str) -> list[dict]:
    """One configuration over the batch sizes: p50/p99 latency and queued throughput, by batch."""
    return [{"batch": b, "p50_ms": r["latency_ms"]["p50"], "p99_ms": r["latency_ms"]["p99"],
             "images_per_s": r["throughput_images_per_s"]}
            for (c, b), r in sorted(rows(doc).items(), key=lambda kv: kv[0][1]) if c == name]


def describe(doc: dict) -> str:
    """One line of provenance: hardware, driver, CUDA, PyTorch and date."""
    return results.describe(doc)


def table(doc: dict) -> str:
    """Every record as a fixed-width text table."""
    lines = [f"{'config':<25}{'batch':>6}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'GPU p50':>9}{'img/s':>10}"
             f"{'setup s':>9}  check"]
    order = {name: i for i, name in enumerate(CONFIGS)}
    for rec in sorted(doc["records"], key=lambda r: (order.get(r["config"], 99), r["batch"])):
        head = f"{rec['config']:<25}{rec['batch']:>6}"
        if "latency_ms" not in rec:
            lines.append(head + f"  {'skipped: ' + rec['skipped'] if 'skipped' in rec else 'failed: ' + rec.get('error', '?')}")
            continue
        lat, gpu = rec["latency_ms"], rec.get("gpu_ms") or {}
        setup = f"{rec['setup_s']:>9.1f}" if rec.get("setup_s") is not None else f"{'':>9}"
        gpu_p50 = f"{gpu['p50']:>9.2f}" if "p50" in gpu else f"{'':>9}"
        check = rec["check"]
        lines.append(head + f"{lat['p50']:>9.2f}{lat['p90']:>9.2f}{lat['p99']:>9.2f}{gpu_p50}"
                     f"{rec['throughput_images_per_s']:>10.0f}{setup}  "
                     f"{'ok' if check['passed'] else 'FAILED'} ({check['rel_l2_vs_float64']:.1e})")
    return "\n".join(lines)


# --- Command line -----------------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m demos.gpu_speed.latency", description=__doc__.splitlines()[0])
    results.add_io_arguments(p, "latency.json")
    p.add_argument("--configs", nargs="+", default=None, metavar="CONFIG",
                   help=f"configurations (default: all): {' '.join(CONFIGS)}")
    p.add_argument("--batches", type=int, nargs="+", default=None,
                   help=f"batch sizes, the first one measured first for every configuration (default "
                        f"{' '.join(map(str, BATCHES))})")
    p.add_argument("--seconds-per-case", type=float, default=1.0,
                   help="about this many seconds of timed requests per measurement (default 1; at least 200 requests)")
    p.add_argument("--full-sweep", action="store_true",
                   help=f"sweep the batch sizes for every configuration (default: {', '.join(FIRST_BATCH_ONLY)} at "
                        "the first batch size only)")
    p.add_argument("--time-budget", type=float, default=240.0,
                   help="seconds; no new measurement starts after this (default 240; the file keeps what was measured)")
    p.add_argument("--resume", action="store_true",
                   help="keep the measurements already in --out (same GPU, driver and PyTorch) and add the missing ones")
    p.add_argument("--image-size", type=int, default=224, help="input height and width (default 224)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and inputs (default 0)")
    p.add_argument("--compile-backend", default="inductor", help=argparse.SUPPRESS)  # tests: "eager"
    p.add_argument("--min-samples", type=int, default=200, help=argparse.SUPPRESS)  # tests: fewer requests
    return p


def _check_args(args) -> None:
    unknown = [c for c in args.configs if c not in CONFIGS]
    if unknown:
        raise UserError(f"--configs {' '.join(unknown)}: choose from {' '.join(CONFIGS)}")
    if any(b < 1 for b in args.batches) or len(set(args.batches)) != len(args.batches):
        raise UserError(f"--batches {' '.join(map(str, args.batches))}: give distinct positive batch sizes")
    if args.seconds_per_case <= 0 or args.time_budget <= 0:
        raise UserError("--seconds-per-case and --time-budget must be positive")
    if args.image_size < 32:
        raise UserError("--image-size must be at least 32 (ResNet50 downsamples by 32)")
    results.check_out(args.out, args.out_example)


def _resume(args, doc: dict) -> set[tuple[str, int]]:
    """Carry an earlier call's records into ``doc``; return the (config, batch) pairs already measured."""
    from demos.files import read_json
    from demos.gpu_speed import machine

    prev = read_json(args.out, "latency result to resume")
    if not isinstance(prev, dict) or prev.get("schema") != SCHEMA or problems(prev):
        raise UserError(f"{args.out} is not a valid {SCHEMA} result; give --resume the --out of an earlier run")
    was, now = machine.machine_key(prev["provenance"]), machine.machine_key(doc["provenance"])
    if was != now:
        diff = ", ".join(f"{k} {was[k]} -> {now[k]}" for k in was if was[k] != now[k])
        raise UserError(f"{args.out} was measured on another machine or software ({diff}); write to a new --out")
    for key in ("device", "image_size", "seed"):
        if prev["settings"].get(key) != doc["settings"][key]:
            raise UserError(f"{args.out} was measured with {key}={prev['settings'].get(key)!r}, not "
                            f"{doc['settings'][key]!r}; use the same settings or a new --out")
    kept = [r for r in prev["records"] if "latency_ms" in r]  # failed or skipped ones are tried again
    doc["records"] = kept
    doc["earlier_calls"] = [*prev.get("earlier_calls", []),
                            {"date": prev["provenance"]["date"], "elapsed_s": prev.get("elapsed_s"),
                             "gpu_after_run": prev["provenance"].get("gpu_after_run")}]
    return {(r["config"], r["batch"]) for r in kept}


def run(args) -> dict:
    try:
        import torch
    except ImportError as exc:
        raise UserError(f"PyTorch is not installed ({exc}); install torch to measure") from None
    from demos.gpu_speed import machine

    args.configs = args.configs or list(CONFIGS)
    args.batches = args.batches or list(BATCHES)
    _check_args(args)
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        raise UserError(machine.no_cuda_message(torch))
    started = time.perf_counter()
    device = torch.device("cuda", 0) if cuda else torch.device("cpu")
    doc = {"schema": SCHEMA, "provenance": machine.collect(torch, cuda),
           "settings": {"device": args.device, "model": "torchvision ResNet50, random weights (seeded)",
                        "image_size": args.image_size, "seed": args.seed, "configs": args.configs,
                        "batches": args.batches, "full_sweep": args.full_sweep,
                        "seconds_per_case": args.seconds_per_case,
                        "time_budget_s": args.time_budget, "compile_backend": args.compile_backend,
                        "latency": "host clock from the call until its result is ready, one request at a time",
                        "throughput": "requests queued back to back, CUDA events (CPU: wall clock)",
                        "inputs": "random normal, preprocessed and on the device, rotated over a pool",
                        "fp32": "IEEE FP32 (TF32 off)", "cudnn_benchmark": True},
           "records": [], "skipped": []}
    done = _resume(args, doc) if args.resume and args.out.exists() else set()
    if done:
        print(f"[latency] resuming {args.out}: {len(done)} measurement(s) kept", flush=True)

    model, spec = build_model(torch, args.seed)
    doc["settings"]["model_notes"] = spec.notes
    ref = reference_logits(torch, model, args.image_size, args.seed, device)
    del model

    def save():
        doc["elapsed_s"] = round(time.perf_counter() - started, 1)
        if cuda:
            doc["provenance"]["gpu_after_run"] = machine.gpu_clocks()
        if any("latency_ms" in r for r in doc["records"]):
            results.write(args.out, doc, SCHEMA)

    for name, batch in plan(args.configs, args.batches, args.full_sweep):
        if (name, batch) in done:
            continue
        if time.perf_counter() - started > args.time_budget:
            doc["skipped"].append(f"{name} batch {batch}: time budget of {args.time_budget:.0f} s used")
            print(f"[latency] {doc['skipped'][-1]}", flush=True)
            continue
        rec = measure_case(torch, name, batch, device, ref, image_size=args.image_size, seed=args.seed,
                           seconds=args.seconds_per_case, warmup_s=1.0 if cuda else 0.05,
                           compile_backend=args.compile_backend, min_samples=args.min_samples)
        doc["records"].append(rec)
        if "latency_ms" in rec:
            lat = rec["latency_ms"]
            print(f"[latency] {name:<24} batch {batch:>4}: p50 {lat['p50']:8.2f} ms  p99 {lat['p99']:8.2f} ms  "
                  f"{rec['throughput_images_per_s']:>9.0f} img/s queued"
                  + (f"  (setup {rec['setup_s']:.0f} s)" if rec.get("setup_s") else ""), flush=True)
        else:
            print(f"[latency] {name:<24} batch {batch:>4}: {rec.get('error') or 'skipped: ' + rec['skipped']}",
                  flush=True)
        save()
    if not any("latency_ms" in r for r in doc["records"]):
        raise UserError("no configuration could be measured; nothing was written" + (
            f" (first failure: {doc['records'][0].get('error') or doc['records'][0].get('skipped')})"
            if doc["records"] else ""))
    save()
    print(describe(doc))
    print(table(doc))
    left = doc["skipped"]
    print(f"[latency] wrote {args.out} in {doc['elapsed_s']:.0f} s" + (
        f"; {len(left)} measurement(s) left for a --resume call" if left else ""))
    return doc


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return run_cli(run, args, interrupted="interrupted (the file keeps the measurements finished so far)")


if __name__ == "__main__":
    sys.exit(main())
