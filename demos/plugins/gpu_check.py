"""Check the plugin's CUDA (CuPy) and Triton kernels against the references on a GPU, and time them.

Run on a machine with a CUDA GPU, PyTorch, CuPy and Triton (TensorRT is not needed)::

    python -m demos.plugins.gpu_check --out demos/plugins/results/gpu_check.json

For every case (input shape, input dtype uint8 or float16, output dtype float32 or float16, kernel) it
draws a fresh random image, fills the output with NaN so an element the kernel forgets to write cannot
pass, runs the kernel, and compares with the NumPy reference (on the CPU) and the PyTorch reference (on the
GPU): maximum absolute error and the fraction of bit-identical elements.  It then times the kernels
against PyTorch's equivalent operations (CUDA events, median of repeated runs), and the host-to-device
copy of one batch as uint8 and as float tensors.  Everything goes into one JSON file with provenance.
Exit status: 0 all checks pass, 1 a numeric check failed (the JSON says which), 2 no GPU or a library
missing.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import sys
import time

import numpy as np

from demos import files, provenance
from demos.errors import UserError
from demos.plugins import PLUGIN_NAME
from demos.plugins.fields import IMAGENET, PreprocessFields, nbytes_per_image
from demos.plugins.reference import preprocess_numpy, preprocess_torch

CHECK_SHAPES = [(1, 224, 224, 3), (8, 224, 224, 3), (4, 37, 53, 3), (2, 512, 512, 3), (1, 1, 1, 3), (3, 7, 1000, 3)]
TIME_SHAPES = [(1, 224, 224, 3), (8, 224, 224, 3), (32, 224, 224, 3), (128, 224, 224, 3)]
TRIALS = 2  # fresh inputs per checked case
WARMUP, REPEATS = 10, 50
# fp32: the kernels do the reference's exact operations, so any difference is a bug; fp16: at most one
# rounding step apart would still be a (tiny) difference worth seeing, but not a failure.
TOLERANCE = {"float32": 1e-6, "float16": 2e-3}


class NoDevice(UserError):
    exit_code = 2


def _require_gpu():
    try:
        import torch
    except ImportError:
        raise NoDevice("missing library: torch (install PyTorch with CUDA)") from None
    if not torch.cuda.is_available():
        raise NoDevice(f"no CUDA device: torch.cuda.is_available() is False (torch {torch.__version__}, "
                       f"built for CUDA {torch.version.cuda}); run this on the GPU machine")
    missing = []
    for lib in ("cupy", "triton"):
        try:
            __import__(lib)
        except ImportError:
            missing.append(lib)
    if missing:
        raise NoDevice(f"missing library: {', '.join(missing)} (pip install cupy-cuda13x triton)")
    return torch


def _versions() -> dict:
    import cupy
    import torch
    import triton

    out = {"torch": torch.__version__, "torch_cuda": torch.version.cuda, "cupy": cupy.__version__,
           "triton": triton.__version__, "numpy": np.__version__}
    rt = cupy.cuda.runtime
    out["cuda_runtime"] = _cuda_version(rt.runtimeGetVersion())
    out["cuda_driver_api"] = _cuda_version(rt.driverGetVersion())
    for dist in ("cupy-cuda13x", "cupy-cuda12x"):
        try:
            out["cupy_dist"] = f"{dist} {importlib.metadata.version(dist)}"
            break
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _cuda_version(v: int) -> str:
    return f"{v // 1000}.{(v % 1000) // 10}"


def _kernels(torch):
    import cupy

    from demos.plugins import cuda_kernel, triton_kernel

    def run_cuda(x, y, fields):
        with cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
            cuda_kernel.launch(x, y, fields)

    def run_triton(x, y, fields):
        triton_kernel.launch(x, y, fields)

    return {"cuda_cupy": run_cuda, "triton": run_triton}


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint16)


def compare(got: np.ndarray, ref: np.ndarray) -> dict:
    """Max absolute error, bit-identical fraction, and how many outputs were never written (still NaN)."""
    unwritten = int(np.isnan(got).sum())
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    return {"max_abs_err": float(np.nanmax(diff)) if diff.size else 0.0,
            "exact_match_rate": float(np.mean(_bits(got) == _bits(ref))) if got.size else 1.0,
            "unwritten": unwritten}


def check_case(torch, run, shape, in_dtype: str, fields: PreprocessFields, generator) -> dict:
    image_u8 = torch.randint(0, 256, shape, dtype=torch.uint8, device="cuda", generator=generator)
    image = image_u8 if in_dtype == "uint8" else image_u8.to(torch.float16)  # the plugin's input: cast pixels
    n, h, w, c = shape
    out = torch.full((n, c, h, w), float("nan"), dtype=getattr(torch, fields.out_dtype), device="cuda")
    run(image, out, fields)
    torch.cuda.synchronize()
    got = out.cpu().numpy()
    ref_np = preprocess_numpy(image_u8.cpu().numpy(), fields)
    ref_torch = preprocess_torch(image_u8, fields).cpu().numpy()
    vs_numpy = compare(got, ref_np)
    vs_torch = compare(got, ref_torch)
    ok = (vs_numpy["unwritten"] == 0 and vs_numpy["max_abs_err"] <= TOLERANCE[fields.out_dtype] * max(1.0, float(np.abs(ref_np).max()))
          and vs_torch["max_abs_err"] <= TOLERANCE[fields.out_dtype] * max(1.0, float(np.abs(ref_np).max())))
    return {"vs_numpy": vs_numpy, "vs_torch": vs_torch, "pass": bool(ok)}


def time_cuda(torch, fn, warmup: int = WARMUP, repeats: int = REPEATS) -> dict:
    """Median and spread of ``fn``'s GPU time in microseconds, one CUDA-event pair per run."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1000.0)
    times.sort()
    return {"median_us": statistics.median(times), "p10_us": times[len(times) // 10],
            "p90_us": times[(9 * len(times)) // 10], "runs": repeats}


def run_checks(torch, kernels, fields: PreprocessFields) -> list[dict]:
    generator = torch.Generator(device="cuda")
    generator.manual_seed(20261122)
    results = []
    for kernel, run in kernels.items():
        for in_dtype in ("uint8", "float16"):
            for out_dtype in ("float32", "float16"):
                f = fields.with_out_dtype(out_dtype)
                for shape in CHECK_SHAPES:
                    for trial in range(TRIALS):
                        r = check_case(torch, run, shape, in_dtype, f, generator)
                        results.append({"kernel": kernel, "in_dtype": in_dtype, "out_dtype": out_dtype,
                                        "shape": list(shape), "trial": trial, **r})
    return results


def run_timings(torch, kernels, fields: PreprocessFields) -> list[dict]:
    rows = []
    for shape in TIME_SHAPES:
        n, h, w, c = shape
        image_u8 = torch.randint(0, 256, shape, dtype=torch.uint8, device="cuda")
        image_f16 = image_u8.to(torch.float16)
        for out_dtype in ("float32", "float16"):
            f = fields.with_out_dtype(out_dtype)
            out = torch.empty((n, c, h, w), dtype=getattr(torch, out_dtype), device="cuda")
            cases = {("torch_eager", "uint8"): lambda f=f: preprocess_torch(image_u8, f)}
            for kernel, run in kernels.items():
                for in_dtype, image in (("uint8", image_u8), ("float16", image_f16)):
                    cases[(kernel, in_dtype)] = lambda run=run, image=image, f=f, out=out: run(image, out, f)
            for (impl, in_dtype), fn in cases.items():
                rows.append({"impl": impl, "in_dtype": in_dtype, "out_dtype": out_dtype, "shape": list(shape),
                             **time_cuda(torch, fn)})
    return rows


def run_transfers(torch, shape=(32, 224, 224, 3)) -> list[dict]:
    """Host-to-device copy of one batch from pinned memory: uint8 NHWC vs ready-made float NCHW."""
    n, h, w, c = shape
    rows = []
    for dtype, dims in (("uint8", (n, h, w, c)), ("float16", (n, c, h, w)), ("float32", (n, c, h, w))):
        host = torch.zeros(dims, dtype=getattr(torch, dtype)).pin_memory()
        dev = torch.empty(dims, dtype=getattr(torch, dtype), device="cuda")
        timing = time_cuda(torch, lambda host=host, dev=dev: dev.copy_(host, non_blocking=True))
        rows.append({"dtype": dtype, "shape": list(dims), "bytes": n * nbytes_per_image(h, w)[dtype], **timing})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demos.plugins.gpu_check", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file to write (written only when the run completes)")
    args = parser.parse_args(argv)
    try:
        torch = _require_gpu()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    started = time.perf_counter()
    fields = IMAGENET
    kernels = _kernels(torch)
    checks = run_checks(torch, kernels, fields)
    timings = run_timings(torch, kernels, fields)
    transfers = run_transfers(torch)
    failed = [c for c in checks if not c["pass"]]
    report = {
        "what": f"{PLUGIN_NAME} kernels (CUDA C via CuPy, Triton) vs NumPy and PyTorch references",
        "fields": {"mean": list(fields.mean), "std": list(fields.std)},
        "provenance": {**provenance.collect(), "libraries": _versions(),
                       "command": "python -m demos.plugins.gpu_check " + " ".join(argv or sys.argv[1:])},
        "method": {"check_shapes": CHECK_SHAPES, "trials_per_case": TRIALS, "tolerance": TOLERANCE,
                   "timing": f"CUDA events around each call, {WARMUP} warm-up then median of {REPEATS} runs",
                   "inputs": "fresh torch.randint(0, 256) images per case; outputs pre-filled with NaN"},
        "summary": {"cases": len(checks), "passed": len(checks) - len(failed),
                    "bit_exact_cases": sum(c["vs_numpy"]["exact_match_rate"] == 1.0 for c in checks),
                    "max_abs_err_vs_numpy": max(c["vs_numpy"]["max_abs_err"] for c in checks),
                    "seconds": round(time.perf_counter() - started, 1)},
        "checks": checks,
        "timings": timings,
        "transfers": transfers,
    }
    files.write_json(args.out, report)
    s = report["summary"]
    print(f"{s['passed']}/{s['cases']} cases pass, {s['bit_exact_cases']} bit-exact vs NumPy, "
          f"max |err| {s['max_abs_err_vs_numpy']:.3g}; wrote {args.out} in {s['seconds']} s")
    for c in failed[:5]:
        print(f"FAILED {c['kernel']} {c['in_dtype']}->{c['out_dtype']} {c['shape']}: {c['vs_numpy']} {c['vs_torch']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
