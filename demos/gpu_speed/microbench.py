"""Measure dense matmul throughput per data type, and DRAM bandwidth, with PyTorch.

Each case multiplies two random ``n x n`` matrices (never zeros: the power a tensor core draws, and with it
the clock it can hold, depends on the bits it flips) and counts ``2 n^3`` operations per product.
Timing follows the usual rules for GPU benchmarks:

* warm up first (clocks ramp up, cuBLAS picks and caches its kernel, lazy initialisation happens);
* time on the GPU with CUDA events, several calls per event pair when one call is short, and report the
  median of many samples (the minimum is recorded too);
* when the operands are small enough to stay in the L2 cache between calls, rotate through several copies
  so that each call reads its inputs from DRAM, as a real layer does;
* check every result against a float64 reference on a slice, so a fast wrong answer cannot pass.

The harness itself (:func:`measure`) is device-agnostic: with ``--device cpu`` the same code path runs
with a wall clock, which is how the tests exercise it on machines without a GPU.
"""

from __future__ import annotations

import math
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from demos.gpu_speed.datasheet import UNITS

# name -> (operand dtype, math setting, element bytes). fp8 "fast accum" skips Hopper's periodic promotion of
# the FP8 tensor-core accumulator to FP32: faster, slightly less accurate.
CASES = ("fp32", "tf32", "bf16", "fp16", "fp8_e4m3", "fp8_e4m3_fast_accum", "int8")
ELEMENT_BYTES = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8_e4m3": 1, "fp8_e4m3_fast_accum": 1,
                 "int8": 1}
# Largest acceptable (max |error|) / (max |reference|) on the checked slice; int8 must be exact.
TOLERANCE = {"fp32": 1e-5, "tf32": 2e-2, "bf16": 2e-2, "fp16": 1e-2, "fp8_e4m3": 2e-2,
             "fp8_e4m3_fast_accum": 5e-2, "int8": 0.0}
CHECK_ROWS, CHECK_COLS = 64, 256


def unit(case: str) -> str:
    return UNITS["fp8_e4m3" if case.startswith("fp8") else case]


# --- Timing ------------------------------------------------------------------------------------------------

@dataclass
class Timing:
    median_s: float  # per call
    min_s: float
    samples: int
    calls_per_sample: int
    warmup_calls: int


class WallClock:
    """Host timer for CPU runs: the work is synchronous, so perf_counter brackets it exactly."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock

    def mark(self):
        return self.clock()

    def elapsed(self, start, end) -> float:
        return end - start

    def synchronize(self) -> None:
        pass


class CudaClock:
    """CUDA events recorded on the current stream: they time the GPU's work, not the host's enqueueing."""

    def __init__(self, torch):
        self.torch = torch

    def mark(self):
        event = self.torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def elapsed(self, start, end) -> float:
        return start.elapsed_time(end) / 1e3  # milliseconds -> seconds

    def synchronize(self) -> None:
        self.torch.cuda.synchronize()


def measure(fn: Callable[[int], object], clock, warmup_s: float = 0.25, budget_s: float = 1.0,
            min_sample_s: float = 2e-3, min_samples: int = 5, max_samples: int = 50) -> Timing:
    """Time ``fn(i)`` (``i`` counts calls, for rotating inputs) and return per-call statistics.

    Warm-up runs for at least ``warmup_s`` and two calls. Its synchronized wall time gives a per-call
    estimate that sets how many calls go into one timed sample (at least ``min_sample_s`` of work, so event
    resolution and launch gaps do not matter) and how many samples fit into ``budget_s``.
    """
    calls = 0
    start = time.perf_counter()
    while True:
        fn(calls)
        calls += 1
        clock.synchronize()
        elapsed = time.perf_counter() - start
        if calls >= 2 and elapsed >= warmup_s:
            break
    per_call = max(elapsed / calls, 1e-9)
    inner = max(1, math.ceil(min_sample_s / per_call))
    samples = int(min(max_samples, max(min_samples, budget_s // (inner * per_call))))
    marks = []
    for _ in range(samples):
        begin = clock.mark()
        for _ in range(inner):
            fn(calls)
            calls += 1
        marks.append((begin, clock.mark()))
    clock.synchronize()
    per_sample = [clock.elapsed(b, e) / inner for b, e in marks]
    return Timing(statistics.median(per_sample), min(per_sample), samples, inner, calls - samples * inner)


# --- Operands and the products to time ---------------------------------------------------------------------

@contextmanager
def float32_matmul_precision(torch, precision: str):
    """'highest' = IEEE FP32 on the CUDA cores; 'high' = TF32 on the tensor cores. Restored afterwards."""
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)


def make_operands(torch, case: str, n: int, device, generator, b_column_major: bool = True):
    """One (A, B, extras) set. B is column-major (a transposed row-major tensor), the layout of
    ``x @ weight.T`` in a linear layer and the one FP8 and INT8 tensor-core GEMMs prefer."""
    shape = (n, n)
    if case == "int8":
        a = torch.randint(-128, 128, shape, dtype=torch.int8, device=device, generator=generator)
        bt = torch.randint(-128, 128, shape, dtype=torch.int8, device=device, generator=generator)
        return a, (bt.t() if b_column_major else bt), {}
    a = torch.randn(shape, device=device, generator=generator)
    bt = torch.randn(shape, device=device, generator=generator)
    if case.startswith("fp8"):
        # Unit-variance data uses e4m3's range well (max 448); the scales are the tensorwise dequantization
        # factors the GEMM applies to its FP32 accumulator.
        one = torch.ones((), device=device, dtype=torch.float32)
        return (a.to(torch.float8_e4m3fn), bt.to(torch.float8_e4m3fn).t(), {"scale_a": one, "scale_b": one.clone()})
    dtype = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[case]
    return a.to(dtype), bt.to(dtype).t(), {}


def product(torch, case: str) -> Callable:
    if case == "int8":
        return lambda a, b, extra: torch._int_mm(a, b)
    if case.startswith("fp8"):
        fast = case.endswith("fast_accum")
        return lambda a, b, extra: torch._scaled_mm(a, b, scale_a=extra["scale_a"], scale_b=extra["scale_b"],
                                                    out_dtype=torch.bfloat16, use_fast_accum=fast)
    return lambda a, b, extra: torch.mm(a, b)


def check(torch, case: str, operands, out) -> dict:
    """Compare a slice of ``out`` with float64 math on the same (already rounded) inputs."""
    a, b, extra = operands
    rows, cols = min(CHECK_ROWS, a.shape[0]), min(CHECK_COLS, b.shape[1])
    # Through float32 (exact for every input type here): not every device converts FP8 straight to float64.
    want = a[:rows].float().double() @ b[:, :cols].float().double()
    if case.startswith("fp8"):
        want = want * (extra["scale_a"].double() * extra["scale_b"].double())
    got = out[:rows, :cols].float().double()
    scale = want.abs().max().item()
    error = (got - want).abs().max().item() / scale if scale > 0 else float("inf")
    finite = bool(torch.isfinite(got).all().item())
    return {"rel_err": error, "tolerance": TOLERANCE[case], "passed": finite and error <= TOLERANCE[case],
            "slice": [rows, cols]}


def operand_bytes(case: str, n: int) -> int:
    return 2 * n * n * ELEMENT_BYTES[case]


def rotation_sets(case: str, n: int, l2_bytes: int | None, max_sets: int = 8) -> int:
    """How many operand copies to cycle through so that a call does not find its inputs in the L2 cache.

    Once the copies together exceed twice the L2 size, the set a call uses was evicted long ago.
    """
    one = operand_bytes(case, n)
    if not l2_bytes or one >= 2 * l2_bytes:
        return 1
    return min(max_sets, math.ceil(2 * l2_bytes / one) + 1)


def bytes_needed(case: str, n: int, sets: int) -> int:
    out_bytes = {"int8": 4, "fp8_e4m3": 2, "fp8_e4m3_fast_accum": 2}.get(case, ELEMENT_BYTES[case])
    # Operands, result, the FP32 staging tensors used to create the operands, and the check's slack.
    return sets * operand_bytes(case, n) + n * n * out_bytes + 2 * n * n * 4 + (64 << 20)


def run_matmul_case(torch, case: str, n: int, device, clock, l2_bytes: int | None, free_bytes: int | None,
                    seed: int, **timing_kw) -> dict:
    """Measure one (data type, size) pair. Returns a JSON-ready record; never raises for a GPU refusal."""
    record = {"dtype": case, "n": n, "unit": unit(case), "ops": 2 * n**3}
    sets = rotation_sets(case, n, l2_bytes)
    need = bytes_needed(case, n, sets)
    if free_bytes is not None and need > 0.9 * free_bytes:
        record["skipped"] = f"needs {need / 2**30:.1f} GiB, {free_bytes / 2**30:.1f} GiB free"
        return record
    precision = "highest" if case != "tf32" else "high"
    # INT8 falls back to a row-major B if this GPU/library refuses the column-major one.
    layouts = (True, False) if case == "int8" else (True,)
    for b_column_major in layouts:
        generator = torch.Generator(device=device).manual_seed(seed)
        operands = []
        try:
            with float32_matmul_precision(torch, precision):
                operands = [make_operands(torch, case, n, device, generator, b_column_major) for _ in range(sets)]
                mm = product(torch, case)
                out = mm(*operands[0])
                record["check"] = check(torch, case, operands[0], out)
                del out
                timing = measure(lambda i: mm(*operands[i % sets]), clock, **timing_kw)
            record.pop("error", None)
            break
        except (RuntimeError, NotImplementedError, TypeError) as exc:  # unsupported dtype/layout on this GPU
            record["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        finally:
            del operands
    if "error" in record:
        return record
    record.update(
        rate=record["ops"] / timing.median_s / 1e12, best_rate=record["ops"] / timing.min_s / 1e12,
        median_s=timing.median_s, min_s=timing.min_s, samples=timing.samples,
        calls_per_sample=timing.calls_per_sample, warmup_calls=timing.warmup_calls, operand_sets=sets,
        float32_matmul_precision=precision if case in ("fp32", "tf32") else None,
        b_layout="column-major" if b_column_major else "row-major",
    )
    return record


def run_copy(torch, device, nbytes: int, clock, **timing_kw) -> dict:
    """DRAM bandwidth from a large device-to-device copy: every byte is read once and written once."""
    src = torch.randint(0, 256, (nbytes,), dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    try:
        timing = measure(lambda i: dst.copy_(src), clock, **timing_kw)
        equal = bool(torch.equal(dst, src))
    finally:
        del src, dst
    moved = 2 * nbytes
    return {"kind": "device-to-device copy (torch.Tensor.copy_)", "bytes_per_copy": nbytes,
            "bytes_moved": moved, "median_s": timing.median_s, "min_s": timing.min_s,
            "tbps": moved / timing.median_s / 1e12, "best_tbps": moved / timing.min_s / 1e12,
            "samples": timing.samples, "calls_per_sample": timing.calls_per_sample, "copy_verified": equal}
