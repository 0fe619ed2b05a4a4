"""Command line: ``python -m demos.gpu_speed --out RESULT.json``.

Measures matmul throughput for fp32, tf32, bf16, fp16, fp8 (e4m3) and int8 at a few square sizes, and DRAM
bandwidth, on the first CUDA GPU; writes one JSON file with provenance and prints a table. Without a GPU it
stops with a one-line error and writes nothing. ``--device cpu`` runs the same harness on the CPU with small
sizes: a smoke test of the code, not a measurement worth reporting.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from demos.errors import UserError, run_cli
from demos.gpu_speed import results

GPU_SIZES = (4096, 8192, 16384)
GPU_COPY_MIB = 2048


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demos.gpu_speed", description=__doc__.splitlines()[0])
    results.add_io_arguments(p, "gpu_speed.json")
    p.add_argument("--sizes", type=int, nargs="+", default=None,
                   help=f"matrix sizes n (multiples of 16; default {' '.join(map(str, GPU_SIZES))} on cuda, 256 on cpu)")
    p.add_argument("--dtypes", nargs="+", default=None, metavar="DTYPE",
                   help="subset of the data types to measure (default: all)")
    p.add_argument("--copy-mib", type=int, default=None,
                   help=f"size of the buffer copied for the bandwidth test (default {GPU_COPY_MIB} on cuda, 64 on cpu)")
    p.add_argument("--seconds-per-case", type=float, default=1.0,
                   help="timed seconds per (dtype, size) after warm-up (default 1.0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random operands (default 0)")
    return p


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        raise UserError(f"PyTorch is not installed ({exc}); install torch to measure") from None
    return torch


def _check_args(args, microbench) -> None:
    bad = [n for n in args.sizes if n < 16 or n % 16]
    if bad:
        raise UserError(f"--sizes {bad}: every size must be a positive multiple of 16 (FP8 and INT8 GEMMs need it)")
    unknown = [d for d in args.dtypes if d not in microbench.CASES]
    if unknown:
        raise UserError(f"--dtypes {unknown}: choose from {' '.join(microbench.CASES)}")
    if args.copy_mib < 1:
        raise UserError("--copy-mib must be at least 1")
    if args.seconds_per_case <= 0:
        raise UserError("--seconds-per-case must be positive")
    results.check_out(args.out, args.out_example)


def run(args) -> dict:
    torch = _import_torch()
    from demos.gpu_speed import machine, microbench

    cuda = args.device == "cuda"
    if args.sizes is None:
        args.sizes = list(GPU_SIZES) if cuda else [256]
    if args.dtypes is None:
        args.dtypes = list(microbench.CASES)
    if args.copy_mib is None:
        args.copy_mib = GPU_COPY_MIB if cuda else 64
    _check_args(args, microbench)
    if cuda and not torch.cuda.is_available():
        raise UserError(machine.no_cuda_message(torch))

    started = time.perf_counter()
    device = torch.device("cuda", 0) if cuda else torch.device("cpu")
    prov = machine.collect(torch, cuda)
    l2_bytes = (prov["gpu"] or {}).get("l2_cache_bytes") if cuda else None
    if cuda:
        clock = microbench.CudaClock(torch)
    else:
        clock = microbench.WallClock()
    timing_kw = {"budget_s": args.seconds_per_case, "warmup_s": 0.25 if cuda else 0.02}

    records = []
    for n in args.sizes:
        for case in args.dtypes:
            free = torch.cuda.mem_get_info(device)[0] if cuda else None
            rec = microbench.run_matmul_case(torch, case, n, device, clock, l2_bytes, free, args.seed, **timing_kw)
            records.append(rec)
            status = (f"{results.fmt_rate(rec['rate'])} {rec['unit']}" if "rate" in rec
                      else rec.get("error") or f"skipped: {rec.get('skipped')}")
            print(f"[gpu_speed] {case:<20} n={n:<6} {status}", flush=True)
            if cuda:
                torch.cuda.empty_cache()
    try:
        memory = microbench.run_copy(torch, device, args.copy_mib << 20, clock, **timing_kw)
    except RuntimeError as exc:
        memory = {"kind": "device-to-device copy (torch.Tensor.copy_)", "error": str(exc).splitlines()[0][:300]}
    if cuda:
        prov["gpu_after_run"] = machine.gpu_clocks()
        prov["float32_matmul_precision_default"] = torch.get_float32_matmul_precision()

    doc = {
        "schema": results.SCHEMA,
        "provenance": prov,
        "settings": {"device": args.device, "sizes": args.sizes, "dtypes": args.dtypes, "seed": args.seed,
                     "seconds_per_case": args.seconds_per_case, "warmup_s": timing_kw["warmup_s"],
                     "copy_bytes": args.copy_mib << 20, "operands": "random normal (int8: uniform -128..127)",
                     "layout": "A row-major, B column-major (x @ W.T)", "statistic": "median of timed samples"},
        "matmul": records,
        "memory": memory,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    results.write(args.out, doc)
    print(results.describe(doc))
    print(results.table(doc))
    print(f"[gpu_speed] wrote {args.out} in {doc['elapsed_s']:.0f} s")
    return doc


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return run_cli(run, args, interrupted="interrupted (no result file was written)")


if __name__ == "__main__":
    sys.exit(main())
