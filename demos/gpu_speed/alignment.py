"""The tensor-core alignment rule, measured: channel counts that are, or are not, multiples of 8 (FP16) or 16 (INT8).

``python3 -m demos.gpu_speed.alignment --out RESULT.json`` times three layers whose channel count ``C`` is
63, 64, 65, 72, 80 and 128, shaped like ResNet50's first stage at batch 256 (56x56 feature maps):

* ``gemm`` FP16: a 1x1 convolution as a matrix product, ``(N*H*W x C) @ (C x C)`` (``torch.mm``);
* ``gemm`` INT8: the same product on INT8 tensor cores (``torch._int_mm``, INT32 results);
* ``conv3x3`` FP16: a 3x3 convolution, channels-last, ``C`` in and ``C`` out (cuDNN, ``benchmark`` on).

NVIDIA's rule (its *Matrix Multiplication Background* guide, "Tensor Core Requirements"): tensor cores run
best when the dimensions that meet in the product, here the input and output channels, are multiples of
8 elements in FP16 and 16 in INT8 (16 bytes either way). When ``C`` breaks the rule, the same layer is also
timed with its channels zero-padded to the next multiple, which is what TensorRT does to such a layer; the
padded time is charged to the useful work of ``C`` channels, so padding shows its true price. ``torch._int_mm``
refuses sizes that are not multiples of 8 outright; the record keeps the refusal.

Every result is checked against float64 (exact for INT8) on a slice. Timing is :func:`microbench.measure`:
warm-up, CUDA events, median of many samples, inputs rotated when they would stay in the L2 cache.
``--device cpu`` is a smoke test of the code, not a measurement.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from demos.errors import UserError, run_cli
from demos.gpu_speed import microbench, results

SCHEMA = "demos.gpu_speed.alignment/1"
CHANNELS = (63, 64, 65, 72, 80, 128)
ALIGN = {"fp16": 8, "int8": 16}  # elements: 16 bytes of each data type
CASES = (("gemm", "fp16"), ("gemm", "int8"), ("conv3x3", "fp16"))
BATCH, SIZE = 256, 56  # ResNet50's first stage: 256 images of 56x56 pixels
TOLERANCE = {"fp16": 1e-2, "int8": 0.0}
CHECK_ROWS = 64


def padded(channels: int, dtype: str) -> int:
    """The next multiple of the data type's alignment."""
    a = ALIGN[dtype]
    return -(-channels // a) * a


def aligned(channels: int, dtype: str) -> bool:
    return channels % ALIGN[dtype] == 0


def useful_flops(op: str, channels: int, batch: int, size: int) -> int:
    """Multiply-adds (x2) of the layer with ``channels`` in and out, the work a padded run is charged with."""
    pixels = batch * size * size
    return 2 * pixels * channels * channels * (9 if op == "conv3x3" else 1)


def plan(channels: list[int]) -> list[tuple[str, str, int, int]]:
    """(op, dtype, channels, channels as run) for every measurement: each case as is, and padded when the
    channel count breaks the rule."""
    out = []
    for op, dtype in CASES:
        for c in channels:
            out.append((op, dtype, c, c))
            if not aligned(c, dtype):
                out.append((op, dtype, c, padded(c, dtype)))
    return out


def rotation_sets(bytes_per_call: int, l2_bytes: int | None, max_sets: int = 8) -> int:
    """Copies of the operands to cycle through so that no call finds its inputs in the L2 cache."""
    if not l2_bytes or bytes_per_call >= 2 * l2_bytes:
        return 1
    return min(max_sets, math.ceil(2 * l2_bytes / bytes_per_call) + 1)


# --- Operands and the layers --------------------------------------------------------------------------------

def _random(torch, shape, dtype: str, device, gen):
    """Random operands, never zeros (a tensor core draws less power, and may clock higher, on zeros)."""
    if dtype == "int8":
        return torch.randint(-128, 128, shape, dtype=torch.int8, device=device, generator=gen)
    return torch.randn(shape, device=device, generator=gen).to(torch.float16)


def gemm_operands(torch, dtype: str, rows: int, c: int, run_c: int, device, gen):
    """Activations (rows x run_c) and a weight (run_c x run_c, [out, in]); padded channels are zero."""
    a = _random(torch, (rows, run_c), dtype, device, gen)
    w = _random(torch, (run_c, run_c), dtype, device, gen)
    if run_c != c:
        a[:, c:] = 0
        w[c:, :] = 0
        w[:, c:] = 0
    return a, w


def gemm_fn(torch, dtype: str, column_major: bool = True):
    """``x @ W.T``: the weight is read column-major (a transposed row-major tensor), as a linear layer does."""
    if dtype == "int8":
        if column_major:
            return lambda a, w: torch._int_mm(a, w.t())
        return lambda a, w: torch._int_mm(a, w.t().contiguous())
    return lambda a, w: torch.mm(a, w.t())


def conv_operands(torch, batch: int, size: int, c: int, run_c: int, device, gen):
    """A channels-last FP16 input (batch, run_c, size, size) and a 3x3 weight; padded channels are zero."""
    x = _random(torch, (batch, run_c, size, size), "fp16", device, gen)
    w = _random(torch, (run_c, run_c, 3, 3), "fp16", device, gen) * (1.0 / (3 * math.sqrt(run_c)))
    if run_c != c:
        x[:, c:] = 0
        w[c:] = 0
        w[:, c:] = 0
    return x.contiguous(memory_format=torch.channels_last), w.contiguous(memory_format=torch.channels_last)


def conv_fn(torch):
    return lambda x, w: torch.nn.functional.conv2d(x, w, padding=1)


def check_gemm(torch, dtype: str, a, w, out, c: int) -> dict:
    rows = min(CHECK_ROWS, a.shape[0])
    want = a[:rows, :c].double() @ w[:c, :c].double().t()
    got = out[:rows, :c].double()
    return _compare(torch, dtype, got, want)


def check_conv(torch, x, w, out, c: int) -> dict:
    """The first image against the same convolution in float64 on the CPU."""
    want = torch.nn.functional.conv2d(x[:1, :c].double().cpu(), w[:c, :c].double().cpu(), padding=1)
    return _compare(torch, "fp16", out[:1, :c].double().cpu(), want)


def _compare(torch, dtype: str, got, want) -> dict:
    scale = want.abs().max().item()
    err = (got.cpu() - want.cpu()).abs().max().item() / scale if scale > 0 else float("inf")
    finite = bool(torch.isfinite(got).all().item())
    return {"rel_err": err, "tolerance": TOLERANCE[dtype], "passed": finite and err <= TOLERANCE[dtype]}


def run_case(torch, op: str, dtype: str, c: int, run_c: int, device, clock, l2_bytes, *, batch: int = BATCH,
             size: int = SIZE, seed: int = 0, **timing_kw) -> dict:
    """Measure one layer. Returns a JSON-ready record; a refusal (unsupported size) becomes ``error``."""
    rows = batch * size * size
    rec = {"op": op, "dtype": dtype, "channels": c, "padded_to": run_c if run_c != c else None,
           "align": ALIGN[dtype], "aligned": aligned(c, dtype), "flops": useful_flops(op, c, batch, size),
           "executed_flops": useful_flops(op, run_c, batch, size)}
    rec["shape"] = ({"m": rows, "k": run_c, "n": run_c} if op == "gemm" else
                    {"batch": batch, "height": size, "width": size, "in": run_c, "out": run_c, "kernel": 3})
    gen = torch.Generator(device=device).manual_seed(seed + run_c)
    element = 1 if dtype == "int8" else 2
    out_element = 4 if dtype == "int8" else 2
    bytes_per_call = rows * run_c * (element + out_element) + run_c * run_c * 9 * element
    sets_n = rotation_sets(bytes_per_call, l2_bytes)
    layouts = (True, False) if (op, dtype) == ("gemm", "int8") else (True,)
    for column_major in layouts:
        sets = []
        try:
            for _ in range(sets_n):
                sets.append(gemm_operands(torch, dtype, rows, c, run_c, device, gen) if op == "gemm"
                            else conv_operands(torch, batch, size, c, run_c, device, gen))
            fn = gemm_fn(torch, dtype, column_major) if op == "gemm" else conv_fn(torch)
            out = fn(*sets[0])
            rec["check"] = (check_gemm(torch, dtype, *sets[0], out, c) if op == "gemm"
                            else check_conv(torch, *sets[0], out, c))
            del out
            timing = microbench.measure(lambda i: fn(*sets[i % sets_n]), clock, **timing_kw)
            rec.pop("error", None)
            if op == "gemm":
                rec["b_layout"] = "column-major" if column_major else "row-major"
            break
        except (RuntimeError, NotImplementedError, TypeError) as exc:  # the library refuses this size
            rec["error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]}"
        finally:
            del sets
    if "error" in rec:
        return rec
    rec.update(median_s=timing.median_s, min_s=timing.min_s, tflops=rec["flops"] / timing.median_s / 1e12,
               best_tflops=rec["flops"] / timing.min_s / 1e12, samples=timing.samples,
               calls_per_sample=timing.calls_per_sample, operand_sets=sets_n)
    return rec


# --- The result document ----------------------------------------------------------------------------------

def problems(doc) -> list[str]:
    """Everything wrong with an alignment result (empty when it is valid)."""
    _positive = results.positive

    out, records = results.records_problems(doc, SCHEMA)
    if not records:
        return out
    measured = 0
    for i, rec in enumerate(records):
        where = f"records[{i}]"
        if not isinstance(rec, dict) or (rec.get("op"), rec.get("dtype")) not in CASES \
                or not _positive(rec.get("channels")) or not _positive(rec.get("flops")):
            out.append(f"{where}: needs a known op and dtype, positive channels and flops")
            continue
        where = f"{where} ({rec['op']} {rec['dtype']} C={rec['channels']})"
        if rec.get("padded_to") is not None and (not isinstance(rec["padded_to"], int) or rec["padded_to"] <= rec["channels"]):
            out.append(f"{where}: padded_to must be larger than channels")
        if "error" in rec:
            continue
        measured += 1
        for key in ("median_s", "min_s", "tflops", "best_tflops"):
            if not _positive(rec.get(key)):
                out.append(f"{where}: {key} must be a positive number")
        if _positive(rec.get("tflops")) and _positive(rec.get("median_s")):
            expected = rec["flops"] / rec["median_s"] / 1e12
            if not math.isclose(rec["tflops"], expected, rel_tol=1e-6):
                out.append(f"{where}: tflops {rec['tflops']} does not equal flops/median_s = {expected}")
        if _positive(rec.get("min_s")) and _positive(rec.get("median_s")) and rec["min_s"] > rec["median_s"]:
            out.append(f"{where}: min_s is larger than median_s")
        if not isinstance(rec.get("check"), dict) or "passed" not in rec["check"]:
            out.append(f"{where}: the correctness check is missing")
    if not measured:
        out.append("no layer was measured (all were refused)")
    return out


def series(doc: dict, op: str, dtype: str) -> list[dict]:
    """One (op, dtype) over the channel counts: useful TFLOPS as is and padded, with the refusals.

    Each row: ``channels``, ``aligned``, ``tflops`` (None when refused or failed its check), ``error``,
    ``padded_to`` and ``padded_tflops`` (when the count breaks the rule), and ``vs_aligned_neighbour``: the
    row's best usable rate (as is, or padded when that is faster or the only one) divided by the rate of
    the nearest aligned channel count at or above it (64 for 63, 72 for 65 in FP16).
    """
    recs = [r for r in doc["records"] if r["op"] == op and r["dtype"] == dtype]
    by_c: dict[int, dict] = {}
    for r in recs:
        row = by_c.setdefault(r["channels"], {"channels": r["channels"], "aligned": r["aligned"], "tflops": None,
                                              "error": None, "padded_to": None, "padded_tflops": None})
        ok = "tflops" in r and r["check"]["passed"]
        if r.get("padded_to") is None:
            row["tflops"] = r["tflops"] if ok else None
            row["error"] = r.get("error") or (None if ok else "result check failed")
        else:
            row["padded_to"] = r["padded_to"]
            row["padded_tflops"] = r["tflops"] if ok else None
    rows = [by_c[c] for c in sorted(by_c)]
    for row in rows:
        best = max((v for v in (row["tflops"], row["padded_tflops"]) if v is not None), default=None)
        neighbour = next((r for r in rows if r["aligned"] and r["channels"] >= row["channels"]
                          and r["tflops"] is not None), None)
        row["vs_aligned_neighbour"] = (best / neighbour["tflops"] if best is not None and neighbour
                                       and neighbour is not row else None)
        row["aligned_neighbour"] = neighbour["channels"] if neighbour else None
    return rows


def describe(doc: dict) -> str:
    """One line of provenance: hardware, driver, CUDA, PyTorch and date."""
    return results.describe(doc)


def table(doc: dict) -> str:
    fmt_rate = results.fmt_rate

    lines = [f"{'layer':<15}{'C':>5}{'rule':>6}{'TFLOPS':>9}{'padded':>12}{'vs aligned':>12}"]
    for op, dtype in CASES:
        for row in series(doc, op, dtype):
            rule = "ok" if row["aligned"] else f"%{ALIGN[dtype]}!"
            rate = (f"{fmt_rate(row['tflops']):>9}" if row["tflops"] is not None
                    else f"{'refused' if row['error'] else '-':>9}")
            pad = (f"{'->' + str(row['padded_to']) + ' ' + (fmt_rate(row['padded_tflops']) if row['padded_tflops'] else '-'):>12}"
                   if row["padded_to"] else f"{'':>12}")
            ratio = row["vs_aligned_neighbour"]
            rel = f"{ratio:>11.2f}x" if ratio is not None else f"{'':>12}"
            lines.append(f"{op + ' ' + dtype:<15}{row['channels']:>5}{rule:>6}{rate}{pad}{rel}")
    refused = [f"{r['op']} {r['dtype']} C={r['channels']}: {r['error']}" for r in doc["records"]
               if "error" in r and r.get("padded_to") is None]
    lines += [f"refused: {line}" for line in refused]
    return "\n".join(lines)


# --- Command line -----------------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m demos.gpu_speed.alignment", description=__doc__.splitlines()[0])
    results.add_io_arguments(p, "alignment.json")
    p.add_argument("--channels", type=int, nargs="+", default=None,
                   help=f"channel counts (default {' '.join(map(str, CHANNELS))})")
    p.add_argument("--batch", type=int, default=None, help=f"images (default {BATCH}; 1 on cpu)")
    p.add_argument("--size", type=int, default=None, help=f"feature map height and width (default {SIZE}; 8 on cpu)")
    p.add_argument("--seconds-per-case", type=float, default=0.5, help="timed seconds per layer (default 0.5)")
    p.add_argument("--seed", type=int, default=0)
    return p


def run(args) -> dict:
    try:
        import torch
    except ImportError as exc:
        raise UserError(f"PyTorch is not installed ({exc}); install torch to measure") from None
    from demos.gpu_speed import machine

    cuda = args.device == "cuda"
    channels = args.channels or list(CHANNELS)
    batch = args.batch or (BATCH if cuda else 1)
    size = args.size or (SIZE if cuda else 8)
    if any(c < 1 for c in channels) or batch < 1 or size < 1 or args.seconds_per_case <= 0:
        raise UserError("--channels, --batch, --size and --seconds-per-case must be positive")
    if batch * size * size <= 16:
        raise UserError("--batch x --size^2 must be larger than 16 (torch._int_mm needs more than 16 rows)")
    results.check_out(args.out, args.out_example)
    if cuda and not torch.cuda.is_available():
        raise UserError(machine.no_cuda_message(torch))

    started = time.perf_counter()
    device = torch.device("cuda", 0) if cuda else torch.device("cpu")
    prov = machine.collect(torch, cuda)
    l2_bytes = (prov["gpu"] or {}).get("l2_cache_bytes") if cuda else None
    clock = microbench.CudaClock(torch) if cuda else microbench.WallClock()
    torch.backends.cudnn.benchmark = True  # cuDNN times its algorithms for each shape and keeps the fastest
    torch.backends.cudnn.allow_tf32 = False
    timing_kw = {"budget_s": args.seconds_per_case, "warmup_s": 0.2 if cuda else 0.01}
    records = []
    for op, dtype, c, run_c in plan(channels):
        rec = run_case(torch, op, dtype, c, run_c, device, clock, l2_bytes, batch=batch, size=size,
                       seed=args.seed, **timing_kw)
        records.append(rec)
        what = f"{op} {dtype} C={c}" + (f" padded to {run_c}" if run_c != c else "")
        status = (f"{rec['tflops']:.3g} TFLOPS" + ("" if rec["check"]["passed"] else " (CHECK FAILED)")
                  if "tflops" in rec else f"refused: {rec['error']}")
        print(f"[alignment] {what:<32} {status}", flush=True)
        if cuda:
            torch.cuda.empty_cache()
    if cuda:
        prov["gpu_after_run"] = machine.gpu_clocks()
    doc = {"schema": SCHEMA, "provenance": prov,
           "settings": {"device": args.device, "channels": channels, "batch": batch, "size": size,
                        "gemm": "(batch*size*size x C) @ (C x C)^T, weight column-major",
                        "conv3x3": "NCHW shape, channels-last memory, padding 1, C in and out",
                        "seed": args.seed, "seconds_per_case": args.seconds_per_case,
                        "warmup_s": timing_kw["warmup_s"], "cudnn_benchmark": True,
                        "tflops": "useful work of C channels (2 x multiply-adds) over the median time; "
                                  "int8: TOPS", "statistic": "median of timed samples"},
           "records": records, "elapsed_s": round(time.perf_counter() - started, 1)}
    results.write(args.out, doc, SCHEMA)
    print(describe(doc))
    print(table(doc))
    print(f"[alignment] wrote {args.out} in {doc['elapsed_s']:.0f} s")
    return doc


def main(argv: list[str] | None = None) -> int:
    return run_cli(run, parser().parse_args(argv), interrupted="interrupted (no result file was written)")


if __name__ == "__main__":
    sys.exit(main())
