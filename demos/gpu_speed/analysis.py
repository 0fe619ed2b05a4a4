"""What the page computes from the measurements: roofs, where ResNet50 sits, and the comparisons.

Kept out of the gallery script so that it is tested like the rest of the library.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from demos.files import read_json
from demos.gpu_speed import roofline
from demos.gpu_speed.datasheet import Datasheet, match_gpu
from demos.gpu_speed.results import best_rates

# ResNet50 precisions the page places on the roofline: (compute roof to use, bytes per stored element).
# An FP32 network can run its convolutions in IEEE FP32 or, on tensor cores, in TF32; both store 4 bytes.
RESNET50_PRECISIONS = {"fp32": ("fp32", 4), "tf32": ("tf32", 4), "fp16": ("fp16", 2),
                       "fp8": ("fp8_e4m3", 1), "int8": ("int8", 1)}
BATCH = 256


@dataclass(frozen=True)
class Roofs:
    label: str  # where the numbers come from
    compute: dict[str, float]  # dtype -> TFLOPS (TOPS for int8)
    bandwidth_tbps: float


def measured_roofs(doc: dict) -> Roofs | None:
    """Best measured rate per dtype and the measured copy bandwidth, or None if the file lacks either."""
    rates = {dtype: rec["rate"] for dtype, rec in best_rates(doc).items() if rec["check"]["passed"]}
    fast = rates.pop("fp8_e4m3_fast_accum", None)
    if fast is not None:  # the faster of the two FP8 accumulation modes is what an engine can pick
        rates["fp8_e4m3"] = max(fast, rates.get("fp8_e4m3", 0.0))
    tbps = doc["memory"].get("tbps")
    if not rates or not tbps:
        return None
    where = (doc["provenance"].get("gpu") or {}).get("name") or doc["provenance"].get("host", {}).get("cpu", "CPU")
    return Roofs(f"measured, {where}", rates, tbps)


def datasheet_roofs(sheet: Datasheet) -> Roofs:
    dtypes = ("fp32", "tf32", "bf16", "fp16", "fp8_e4m3", "int8")
    return Roofs(f"datasheet, {sheet.gpu} (dense)", {d: sheet.dense_peak(d) for d in dtypes},
                 sheet.memory_bandwidth_tbps)


def sheet_for(doc: dict) -> Datasheet | None:
    gpu = doc["provenance"].get("gpu") or {}
    return match_gpu(gpu.get("name"), gpu.get("sm_count"))


@dataclass(frozen=True)
class Placement:
    precision: str
    element_bytes: int
    intensity: float  # FLOP (or OP) per byte
    ridge: float
    bound: str
    attainable: float  # TFLOPS
    images_per_second: float  # upper bound from the roofline


def place_resnet50(layers: list[roofline.Layer], roofs: Roofs, batch: int = BATCH) -> list[Placement]:
    """ResNet50 at every precision the roofs cover, under the fused (engine-like) traffic model."""
    out = []
    for precision, (dtype, element_bytes) in RESNET50_PRECISIONS.items():
        peak = roofs.compute.get(dtype)
        if peak is None:
            continue
        t = roofline.traffic(layers, element_bytes, batch, "fused")
        reach = roofline.attainable(peak, roofs.bandwidth_tbps, t.intensity)
        out.append(Placement(precision, element_bytes, t.intensity,
                             roofline.ridge_point(peak, roofs.bandwidth_tbps),
                             roofline.bound(t.intensity, peak, roofs.bandwidth_tbps),
                             reach, reach * 1e12 / t.flops))
    return out


def precision_steps(placed: list[Placement], roofs: Roofs,
                    steps: tuple[tuple[str, str], ...] = (("int8", "fp16"), ("fp8", "int8"))) -> list[dict]:
    """For each (new, old) step both placements cover: the ratio of their images-per-second bounds, the side
    of its ridge each is on, and the ratio of their compute roofs (which is 2 on the datasheet from FP16 to
    INT8, but not with measured roofs)."""
    by = {p.precision: p for p in placed}
    out = []
    for new, old in steps:
        if new in by and old in by:
            a, b = by[new], by[old]
            roof = roofs.compute[RESNET50_PRECISIONS[new][0]] / roofs.compute[RESNET50_PRECISIONS[old][0]]
            out.append({"new": new, "old": old, "speedup_bound": a.images_per_second / b.images_per_second,
                        "bounds": (a.bound, b.bound), "compute_roof_ratio": roof})
    return out


def share_below_ridge(layers: list[roofline.Layer], element_bytes: int, ridge: float, batch: int = BATCH) -> tuple[int, int, float]:
    """(layers below the ridge, all conv/linear layers, share of the FLOPs they hold)."""
    rows = roofline.layer_intensities(layers, element_bytes, batch)
    below = [r for r in rows if r[2] < ridge]
    return len(below), len(rows), sum(r[1] for r in below) / sum(r[1] for r in rows)


# --- The PyTorch ResNet50 ladder measured by `python -m demos.resnet50 bench` --------------------------------

from demos.resnet50 import RESULTS as RESNET50_RESULTS


def resnet50_ladder(folder: Path | None = None) -> list[dict]:
    """PyTorch-on-GPU throughput rows from the ResNet50 demo's committed bench results.

    Reads the files ``python -m demos.resnet50 bench --backend torch-cuda`` writes (``results`` records with
    ``backend``, ``variant``, ``batch``, ``images_per_s``). Each row: ``label`` (the configuration, e.g.
    ``fp16_cl_compile_cg_frozen``), ``batch``, ``images_per_second``, ``gpu`` and a one-line ``provenance``.
    Files or records that are not GPU PyTorch measurements are ignored; an unreadable file raises the demo's
    one-line error.
    """
    rows: list[dict] = []
    folder = Path(folder) if folder is not None else RESNET50_RESULTS
    if not folder.is_dir():
        return rows
    for path in sorted(folder.glob("*.json")):
        doc = read_json(path, "ResNet50 bench result")
        if not isinstance(doc, dict) or doc.get("backend") != "torch-cuda":
            continue
        prov = doc.get("provenance") or {}
        gpu = prov.get("gpu") or {}
        if not gpu.get("name"):
            continue
        for rec in doc.get("results") or []:
            ips = rec.get("images_per_s") if isinstance(rec, dict) else None
            if rec.get("backend") != "torch-cuda" or not isinstance(ips, (int, float)) or ips <= 0:
                continue
            rows.append({"label": str(rec.get("variant", "?")), "batch": rec.get("batch"),
                         "images_per_second": float(ips), "gpu": gpu["name"], "provenance": _describe_prov(prov),
                         "file": path.name})
    return rows


def _describe_prov(prov: dict) -> str:
    gpu = prov.get("gpu") or {}
    versions = prov.get("versions") or {}
    return (f"{gpu.get('name', '?')}, driver {gpu.get('driver', '?')}, CUDA {gpu.get('torch_cuda', '?')}, "
            f"PyTorch {versions.get('torch', '?')}, {str(prov.get('date', '?'))[:10]}")
