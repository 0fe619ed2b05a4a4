"""How much calibration data, which calibrator, and which layers to keep out of INT8: measured.

The building blocks of the INT8 page and of its full-size study (``python -m demos.resnet50.calib_study``):

* :func:`study_split` divides a labelled folder into a calibration set and a disjoint evaluation set large
  enough for 500 calibration images (the demo's own split keeps only 1 image in 5 for calibration).
* :class:`Quantizer` turns calibration images into Q/DQ models: one pass of the FP32 model over the images
  fills the activation histograms (:func:`demos.resnet50.calibration.collect`), each calibrator turns them
  into amax values, and :func:`demos.resnet50.qdq.write_amax` writes ``amax / 127`` into the Q/DQ placement
  ModelOpt chose (:func:`placement`).
* :func:`unquantize` removes the Q/DQ pairs of chosen layers (activation and weight), which leaves those
  layers in the model's high precision: the tool for per-layer sensitivity (:func:`sensitivity`).
* :class:`Evaluator` runs a model on the evaluation images with ONNX Runtime on CPU, emulating TensorRT's
  INT8 arithmetic in float (see :mod:`demos.resnet50.evaluate`), and compares it with FP32.
* :func:`wilson` and :func:`mcnemar` say which accuracy differences the number of images can resolve.

Unrepresentative calibration sets (:func:`synthetic_images`: blank or noise images; :func:`one_group`: images
of one group of classes only) show what bad calibration data does.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from demos import data, files, onnx_tools, provenance
from demos.errors import UserError
from demos.resnet50 import calibration, evaluate, qdq

COUNTS = (5, 10, 50, 500)
RESULT = Path(__file__).resolve().parent / "results" / "calib_study_efficientnet_lite0.json"
COMMAND = ("python -m demos.resnet50 --workdir build/demo/efficientnet_lite0 export --model efficientnet_lite0 && "
           "python -m demos.resnet50.calib_study --onnx build/demo/efficientnet_lite0/fp32.onnx "
           "--workdir build/calib_study --out demos/resnet50/results/calib_study_efficientnet_lite0.json")
DOGS = range(151, 269)  # ImageNet classes 151..268 are dog breeds


# --- Data ------------------------------------------------------------------------------------------------

def study_split(items: list[data.Item], n_calib: int = 500) -> tuple[list[data.Item], list[data.Item]]:
    """``(calibration, evaluation)``: the demo's calibration pool, topped up from its evaluation pool.

    Both pools are in :mod:`demos.data`'s hash order. The calibration set is the whole calibration pool
    followed by the first images of the evaluation pool, up to ``n_calib``; the evaluation set is every
    remaining image. The two never overlap, and the evaluation set is a subset of the demo's evaluation pool.
    """
    calib_pool = sorted((it for it in items if it.role == "calibration"), key=lambda it: it.split_key)
    eval_pool = sorted((it for it in items if it.role == "evaluation"), key=lambda it: it.split_key)
    ordered = calib_pool + eval_pool
    if not 0 < n_calib < len(ordered):
        raise UserError(f"--calib-images {n_calib}: the folder has {len(ordered)} images; choose 1..{len(ordered) - 1}")
    return ordered[:n_calib], ordered[n_calib:]


def one_group(items: list[data.Item], classes=DOGS) -> list[data.Item]:
    """The items whose label is in ``classes`` (default: the 118 dog breeds of ImageNet)."""
    wanted = set(classes)
    return [it for it in items if it.label in wanted]


def synthetic_images(kind: str, count: int, pre: data.Preprocess, seed: int = 0, size: int | None = None) -> np.ndarray:
    """``count`` preprocessed images that are not photos: ``blank`` (mid-grey) or ``noise`` (uniform pixels)."""
    size = size or pre.size
    rng = np.random.default_rng(seed)
    if kind == "blank":
        pixels = np.full((count, size, size, 3), 0.5, np.float32)
    elif kind == "noise":
        pixels = rng.integers(0, 256, (count, size, size, 3)).astype(np.float32) / 255.0
    else:
        raise ValueError(kind)
    x = (pixels - np.asarray(pre.mean, np.float32)) / np.asarray(pre.std, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


# --- Statistics -----------------------------------------------------------------------------------------

def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion ``correct / n``."""
    if n <= 0:
        raise ValueError("n must be positive")
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar(a_correct: np.ndarray, b_correct: np.ndarray) -> dict:
    """Paired comparison of two models on the same images (exact McNemar test on the discordant pairs)."""
    from scipy.stats import binomtest

    a_only = int(np.sum(a_correct & ~b_correct))
    b_only = int(np.sum(b_correct & ~a_correct))
    p = binomtest(a_only, a_only + b_only, 0.5).pvalue if a_only + b_only else 1.0
    return {"only_a_correct": a_only, "only_b_correct": b_only, "p_value": float(p)}


# --- Models ---------------------------------------------------------------------------------------------

def placement(fp32_path, out: Path, x: np.ndarray) -> Path:
    """ModelOpt's Q/DQ placement for ``fp32_path`` (its ``max`` model), kept at ``out`` and reused while its key
    (FP32 model hash, hash of ``x``, library versions; stored in the file) matches: :func:`demos.resnet50.ptq.placement`.

    Only the placement (which tensors get Q/DQ) and the weight scales are used: every activation scale is
    overwritten by :meth:`Quantizer.model`.
    """
    from demos.resnet50 import ptq

    return ptq.placement(fp32_path, out, x)


def unquantize(model, tensors) -> dict:
    """Remove the Q/DQ of the layers that read each activation in ``tensors`` (in place).

    A layer (Conv, Gemm, ...) runs in INT8 only when both its input and its weight pass through Q/DQ;
    removing the activation's QuantizeLinear/DequantizeLinear and the weight's pair of every layer that
    reads it leaves those layers in the model's high precision (FP32 here). Returns what was removed.
    """
    inits = {i.name for i in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    consumers: dict[str, list] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    quantizers = qdq.activation_quantizers(model)
    drop, layers = set(), []
    for t in tensors:
        if t not in quantizers:
            raise UserError(f"{t!r} is not a quantized activation of this model")
        for q in (n for n in consumers.get(t, []) if n.op_type == "QuantizeLinear"):
            drop.add(id(q))
            for dq in (n for n in consumers.get(q.output[0], []) if n.op_type == "DequantizeLinear"):
                drop.add(id(dq))
                for layer in consumers.get(dq.output[0], []):
                    label = layer.name or layer.op_type
                    for k, name in enumerate(layer.input):
                        if name == dq.output[0]:
                            layer.input[k] = t
                            continue
                        wdq = producer.get(name)
                        if wdq is not None and wdq.op_type == "DequantizeLinear":
                            wq = producer.get(wdq.input[0])
                            if wq is not None and wq.op_type == "QuantizeLinear" and wq.input[0] in inits:
                                layer.input[k] = wq.input[0]  # the float weight behind the weight Q/DQ
                                drop.update((id(wdq), id(wq)))
                                label = wq.input[0].removesuffix(".weight")  # e.g. blocks.1.0.conv_pw
                    layers.append(label)
    kept = [n for n in model.graph.node if id(n) not in drop]
    del model.graph.node[:]
    model.graph.node.extend(kept)
    used = {i for n in kept for i in n.input}  # drop the scales and zero points nothing reads any more
    unused = [init for init in model.graph.initializer if init.name not in used]
    for init in unused:
        model.graph.initializer.remove(init)
    return {"removed_nodes": len(drop), "layers": layers}


@dataclass
class Evaluator:
    """FP32 reference and metrics on a fixed set of evaluation images (ONNX Runtime, CPU)."""

    x: np.ndarray
    labels: np.ndarray
    ref: np.ndarray  # FP32 logits
    batch: int = 32
    cache: Path | None = None  # folder for logits keyed by model bytes + images + ORT version (resumable studies)

    @classmethod
    def from_fp32(cls, fp32_path, x: np.ndarray, labels: np.ndarray, ref: np.ndarray | None = None, batch: int = 32):
        if ref is None:
            ref = cls.logits_of(fp32_path, x, batch)
        return cls(x, labels, ref, batch)

    @staticmethod
    def logits_of(model_or_path, x: np.ndarray, batch: int = 32) -> np.ndarray:
        """Logits with ORT; a TensorRT Q/DQ model runs with basic optimizations (float emulation of INT8)."""
        if isinstance(model_or_path, (str, Path)):
            logits, _ = evaluate.ort_logits(model_or_path, (x[i:i + batch] for i in range(0, len(x), batch)))
            return logits
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.onnx"
            onnx_tools.save(model_or_path, path)
            logits, _ = evaluate.ort_logits(path, (x[i:i + batch] for i in range(0, len(x), batch)))
        return logits

    def score(self, logits: np.ndarray) -> dict:
        m = evaluate.metrics(logits, self.labels, self.ref, real_weights=True)
        correct = logits.argmax(1) == self.labels
        lo, hi = wilson(int(correct.sum()), len(correct))
        return {"top1": m.top1, "top1_ci95": [lo, hi], "agreement_with_fp32": m.agreement, "rel_l2_vs_fp32": m.rel_l2,
                "images": m.images, "vs_fp32": mcnemar(correct, self.ref.argmax(1) == self.labels)}

    def run(self, model_or_path) -> dict:
        if self.cache is None or isinstance(model_or_path, (str, Path)):
            return self.score(self.logits_of(model_or_path, self.x, self.batch))
        import hashlib

        import onnxruntime

        model_sha = hashlib.sha256(model_or_path.SerializeToString()).hexdigest()
        key = {"model_sha256": model_sha, "images_sha256": hashlib.sha256(self.x.tobytes()).hexdigest(),
               "onnxruntime": onnxruntime.__version__, "batch": self.batch}
        path = Path(self.cache) / f"logits_{model_sha[:16]}.npz"
        hit = files.load_cache(path, key, rows={"logits": len(self.x)})
        if hit is not None:
            return self.score(hit[0]["logits"])
        logits = self.logits_of(model_or_path, self.x, self.batch)
        files.save_cache(path, key, {"logits": logits})
        return self.score(logits)


class Quantizer:
    """Calibration images -> activation histograms -> one Q/DQ model per calibrator."""

    def __init__(self, fp32_path, placement_path, percentile: float = 99.99):
        self.fp32_path = Path(fp32_path)
        self.placement = onnx_tools.load(placement_path)
        self.tensors = list(qdq.activation_quantizers(self.placement))
        self.calibrators = calibration.calibrators(percentile)

    def collect(self, x: np.ndarray, cache: Path | None = None, data_key: str | None = None) -> calibration.Collection:
        """Histograms of the quantized activations over ``x`` (cached when ``cache`` and ``data_key`` are given)."""
        if len(x) == 0:
            raise UserError("no calibration images")
        return calibration.collect(self.fp32_path, lambda: (x[i:i + 8] for i in range(0, len(x), 8)), self.tensors,
                                   cache=cache, data_hash=data_key, batch_size=8, total=len(x))

    def amax(self, collection: calibration.Collection, method: str) -> dict[str, float]:
        return collection.amax(self.calibrators[method], self.tensors)

    def model(self, amax: dict[str, float]):
        """A copy of the placement with ``scale = amax / 127`` for every activation quantizer in ``amax``."""
        import onnx

        m = onnx.ModelProto()
        m.CopyFrom(self.placement)
        report = qdq.write_amax(m, amax)
        return m, report


def sensitivity(quantizer: Quantizer, amax: dict[str, float], ev: Evaluator, images: int | None = None,
                tensors: list[str] | None = None) -> list[dict]:
    """Quantize one layer at a time (all others FP32) and measure the logit error that layer alone causes.

    ``tensors``: the activations whose layers are tried (default: all quantized activations).
    """
    x = ev.x[:images] if images else ev.x
    ref = ev.ref[:len(x)]
    full, _ = quantizer.model(amax)
    rows = []
    for t in tensors or quantizer.tensors:
        import onnx

        m = onnx.ModelProto()
        m.CopyFrom(full)
        others = [o for o in quantizer.tensors if o != t]
        info = unquantize(m, others)
        logits = Evaluator.logits_of(m, x, ev.batch)
        rows.append({"tensor": t, "layers": _layers_of(full, t),
                     "rel_l2_vs_fp32": float(np.linalg.norm(logits - ref) / np.linalg.norm(ref)),
                     "agreement_with_fp32": float((logits.argmax(1) == ref.argmax(1)).mean()),
                     "images": len(x), "removed_nodes": info["removed_nodes"]})
    return rows


def _layers_of(model, tensor: str) -> list[str]:
    """Names of the layers that read ``tensor`` through its Q/DQ pair."""
    import onnx

    m = onnx.ModelProto()
    m.CopyFrom(model)
    return unquantize(m, [tensor])["layers"]


# --- Rendering a study record (tables for printing, figures) --------------------------------------------

def _pct(v: float) -> str:
    return f"{100 * v:5.1f}"


def count_table(study: dict) -> str:
    """Top-1 per calibrator and number of calibration images, with the McNemar p-value against FP32.

    With several draws of one size: the mean, the range and how many draws differ significantly.
    """
    methods = study["methods"]
    fp = study["fp32"]
    lines = [f"FP32: top-1 {_pct(fp['top1'])}% (95% CI {_pct(fp['top1_ci95'][0]).strip()}-{_pct(fp['top1_ci95'][1]).strip()}), "
             f"{fp['images']} evaluation images",
             f"{'images':>6}  " + "".join(f"{m:>20}" for m in methods),
             f"{'':>6}  " + "".join(f"{'(top-1 %, p)':>20}" for _ in methods)]
    for count in sorted({r["count"] for r in study["counts"]}):
        rows = [r for r in study["counts"] if r["count"] == count]
        cells = []
        for m in methods:
            if m not in rows[0]["results"]:
                cells.append("-")
            elif len(rows) == 1:
                res = rows[0]["results"][m]
                cells.append(f"{_pct(res['top1']).strip()}, p={res['vs_fp32']['p_value']:.2f}")
            else:
                t = [r["results"][m]["top1"] for r in rows]
                sig = sum(r["results"][m]["vs_fp32"]["p_value"] < 0.05 for r in rows)
                cells.append(f"{_pct(np.mean(t))} ({_pct(min(t)).strip()}-{_pct(max(t)).strip()}) {sig}/{len(rows)}")
        lines.append(f"{count:>6}  " + "".join(f"{c:>20}" for c in cells))
    lines.append("p: exact McNemar test against FP32 on the same images (below 0.05: a difference these images resolve)")
    return "\n".join(lines)


def unrepresentative_table(study: dict) -> str:
    methods = study.get("small_set_methods", study["methods"])
    lines = [f"{'calibration set':<66}" + "".join(f"{m:>10}" for m in methods)]
    full = next(r for r in study["counts"] if r["count"] == max(c["count"] for c in study["counts"]))
    sets = [(f"{full['count']} representative images", full["results"])]
    sets += [(f"{u['description']}", u["results"]) for u in study["unrepresentative"].values()]
    for label, res in sets:
        lines.append(f"{label[:65]:<66}" + "".join(f"{_pct(res[m]['top1']):>9}%" if m in res else f"{'-':>10}"
                                                   for m in methods))
    lines.append(f"top-1 on the {study['fp32']['images']} evaluation images; FP32 {_pct(study['fp32']['top1'])}%")
    return "\n".join(lines)


def keep_table(study: dict) -> str:
    k = study["keep_fp32"]
    lines = [f"calibrator {k['calibrator']}, all calibration images; most sensitive layers kept in FP32:",
             f"{'kept':>4}  {'top-1 %':>8}  {'95% CI':>13}  {'agreement %':>11}  {'rel. L2':>8}"]
    for r in k["rows"]:
        lo, hi = r["top1_ci95"]
        lines.append(f"{r['kept_fp32']:>4}  {_pct(r['top1']):>8}  {_pct(lo)}-{_pct(hi).strip():<6}  "
                     f"{_pct(r['agreement_with_fp32']):>11}  {r['rel_l2_vs_fp32']:8.4f}")
    lines.append(f"FP32: top-1 {_pct(study['fp32']['top1'])}%")
    return "\n".join(lines)


COLORS = {"max": "#9467bd", "percentile": "#8c564b", "entropy": "#e377c2", "mse": "#17becf"}


def plot_counts(study: dict, axes) -> None:
    """Top-1 and agreement with FP32 against the number of calibration images (one dot per draw)."""
    fp = study["fp32"]
    counts = sorted({r["count"] for r in study["counts"]})
    for k, m in enumerate(study["methods"]):
        shift = 1 + 0.06 * (k - 1.5)
        for ax, key in zip(axes, ("top1", "agreement_with_fp32")):
            rows = [r for r in study["counts"] if m in r["results"]]
            ax.scatter([r["count"] * shift for r in rows], [100 * r["results"][m][key] for r in rows], s=18,
                       color=COLORS.get(m), label=m if key == "top1" else None)
            have = sorted({r["count"] for r in rows})
            means = [100 * np.mean([r["results"][m][key] for r in rows if r["count"] == c]) for c in have]
            ax.plot([c * shift for c in have], means, color=COLORS.get(m), lw=1)
        last = next(r for r in study["counts"] if r["count"] == counts[-1])["results"][m]
        lo, hi = last["top1_ci95"]
        axes[0].errorbar([counts[-1] * shift], [100 * last["top1"]], yerr=[[100 * (last["top1"] - lo)], [100 * (hi - last["top1"])]],
                         color=COLORS.get(m), capsize=3, lw=1)
    axes[0].axhspan(100 * fp["top1_ci95"][0], 100 * fp["top1_ci95"][1], color="0.85", zorder=0, label="FP32 95% CI")
    axes[0].axhline(100 * fp["top1"], color="0.4", lw=1)
    axes[0].set_ylabel("top-1 accuracy (%)")
    axes[1].set_ylabel("same prediction as FP32 (%)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(counts, [str(c) for c in counts])
        ax.set_xlabel("calibration images")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)


# What the last part of a timm EfficientNet layer name means.
LAYER_ROLES = {"conv_stem": "stem convolution", "conv_pw": "expansion convolution", "conv_dw": "depthwise convolution",
               "conv_pwl": "projection convolution", "conv_head": "head convolution", "classifier": "classifier"}


def layer_role(name: str) -> str:
    """Words for a timm EfficientNet layer name: ``blocks.5.3.conv_pwl`` -> the projection convolution of block
    5.3 (stage 5, block 3), ``conv_stem`` -> the stem convolution; other names are returned as they are."""
    parts = name.split(".")
    role = LAYER_ROLES.get(parts[-1])
    if role is None:
        return name
    if parts[0] == "blocks" and len(parts) == 4:
        return f"the {role} of block {parts[1]}.{parts[2]}"
    return f"the {role}"


def plot_sensitivity(study: dict, ax, highlight: int = 3) -> None:
    """One horizontal bar per quantized layer, in graph order from top to bottom, labelled with its name."""
    rows = study["sensitivity"]["rows"]
    vals = np.array([r["rel_l2_vs_fp32"] for r in rows])
    worst = set(np.argsort(vals)[::-1][:highlight].tolist())
    y = np.arange(len(rows))
    ax.barh(y, vals, height=0.7, color=["#d62728" if i in worst else "#1f77b4" for i in range(len(rows))])
    ax.set_yticks(y, [", ".join(r["layers"]) for r in rows], fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # the first layer of the network at the top
    for i in sorted(worst):
        ax.text(vals[i], i, f" {vals[i]:.3f}", va="center", fontsize=7)
    ax.set_xlim(0, float(vals.max()) * 1.15)  # room for the value labels
    ax.set_xlabel("relative L2 error of the logits with only this layer in INT8")
    ax.grid(axis="x", alpha=0.3)
    sens = study["sensitivity"]
    ax.set_title(f"Per-layer sensitivity, one layer at a time in INT8 ({sens['calibrator']}, {sens['images']} "
                 f"images),\nin graph order; red: the {highlight} most sensitive", fontsize=9)


def plot_keep(study: dict, ax) -> None:
    rows = study["keep_fp32"]["rows"]
    ks = [r["kept_fp32"] for r in rows]
    ax.plot(ks, [100 * r["top1"] for r in rows], "o-", label="top-1 INT8")
    ax.fill_between(ks, [100 * r["top1_ci95"][0] for r in rows], [100 * r["top1_ci95"][1] for r in rows], alpha=0.15)
    ax.axhline(100 * study["fp32"]["top1"], color="0.4", lw=1, label="FP32")
    ax.set_xticks(ks)
    ax.set_xlabel("most sensitive layers kept in FP32")
    ax.set_ylabel("top-1 accuracy (%)")
    ax2 = ax.twinx()
    ax2.plot(ks, [r["rel_l2_vs_fp32"] for r in rows], "s--", color="#ff7f0e", label="rel. L2 (right)")
    ax2.set_ylabel("relative L2 error of logits")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="center right")
    ax.set_title(f"Keeping the most sensitive layers in FP32 ({study['fp32']['images']} evaluation images)",
                 fontsize=9)


# --- The full-size study (CLI) --------------------------------------------------------------------------

DRAWS = {5: 1, 10: 1, 50: 1}  # random draws per small calibration-set size
KEEP = (3,)  # how many of the most sensitive layers the study keeps in FP32
SMALL_METHODS = ("max", "entropy")  # calibrators tried on the small sets (ModelOpt's two)
UNREP_METHODS = {"one_group_dogs": ("entropy",), "blank": ("entropy",), "noise": ("max", "entropy")}


def run_study(fp32_path, workdir: Path, folder: Path, n_calib: int = 500, counts=COUNTS, draws: dict | None = None,
              methods=calibration.METHODS, sens_images: int = 16, keep=KEEP, seed: int = 0,
              small_methods=SMALL_METHODS, unrep_methods=None) -> dict:
    """Every measurement of the INT8 page at full size; returns the JSON record."""
    draws = draws or DRAWS
    unrep_methods = unrep_methods or UNREP_METHODS
    t_start = time.perf_counter()
    spec = onnx_tools.spec_of(onnx_tools.load(fp32_path), fp32_path)
    if not spec.real_weights:
        raise UserError(f"{fp32_path} has random weights: the calibration study measures accuracy and needs real weights")
    calib_items, eval_items = study_split(data.discover(folder), n_calib)
    print(f"calibration set {len(calib_items)} images, evaluation set {len(eval_items)} images (disjoint)")
    stats_c, stats_e = data.LoadStats(), data.LoadStats()
    xc, yc = data.load_array(calib_items, spec.preprocess, stats_c, progress="calibration images")
    xe, ye = data.load_array(eval_items, spec.preprocess, stats_e, progress="evaluation images")
    ev = Evaluator.from_fp32(fp32_path, xe, ye)
    ev.cache = Path(workdir) / "logits"
    fp32 = ev.score(ev.ref)
    print(f"FP32 top-1 {100 * fp32['top1']:.2f}% on {fp32['images']} images")
    place = placement(fp32_path, workdir / "int8_placement.onnx", xc[:32])
    qz = Quantizer(fp32_path, place)

    def evaluate_set(x, label, which=methods):
        col = qz.collect(x)
        out = {}
        for method in which:
            model, report = qz.model(qz.amax(col, method))
            out[method] = {**ev.run(model), "kept_placement_scales": report["kept"]}
            print(f"  {label:28s} {method:10s} top-1 {100 * out[method]['top1']:.2f}%  "
                  f"agreement {100 * out[method]['agreement_with_fp32']:.1f}%")
        return out, col

    rng = np.random.default_rng(seed)
    count_rows, col_full = [], None
    for count in counts:
        for d in range(draws.get(count, 1) if count < len(xc) else 1):
            idx = np.arange(len(xc)) if count >= len(xc) else np.sort(rng.choice(len(xc), count, replace=False))
            res, col = evaluate_set(xc[idx], f"{count} images (draw {d + 1})",
                                    methods if count >= len(xc) else small_methods)
            if count >= len(xc):
                col_full = col
            count_rows.append({"count": int(len(idx)), "draw": d, "images": [calib_items[i].rel for i in idx],
                               "results": res})

    dogs = [i for i, it in enumerate(calib_items) if it.label in set(DOGS)][:50]
    unrep = {}
    for name, x, what in (
            ("one_group_dogs", xc[dogs], f"{len(dogs)} dog photos (ImageNet classes 151-268) from the calibration set"),
            ("blank", synthetic_images("blank", 50, spec.preprocess), "50 uniform mid-grey images"),
            ("noise", synthetic_images("noise", 50, spec.preprocess, seed), "50 images of uniform random pixels")):
        res, _ = evaluate_set(x, name, unrep_methods[name])
        unrep[name] = {"description": what, "images": int(len(x)), "results": res}

    # Sensitivity on the best calibrator with all calibration images.
    full = next(r for r in count_rows if r["count"] == len(xc))["results"]
    best = max(methods, key=lambda m: (full[m]["top1"], full[m]["agreement_with_fp32"]))
    amax = qz.amax(col_full, best)
    print(f"per-layer sensitivity with {best} on {sens_images} images ...")
    sens = sensitivity(qz, amax, ev, sens_images)
    ranked = sorted(sens, key=lambda r: -r["rel_l2_vs_fp32"])
    keep_rows = []
    for k in (0, *keep):
        m, _ = qz.model(amax)
        unquantize(m, [r["tensor"] for r in ranked[:k]])
        res = full[best] if k == 0 else ev.run(m)  # k = 0 is the model measured above
        res = {key: v for key, v in res.items() if key != "kept_placement_scales"}
        keep_rows.append({"kept_fp32": k, "tensors": [r["tensor"] for r in ranked[:k]], **res})
        print(f"  worst {k} layer group(s) in FP32: top-1 {100 * res['top1']:.2f}%  rel L2 {res['rel_l2_vs_fp32']:.3f}")

    return {
        "study": "int8_calibration", "model": spec.name, "weights": spec.weights_label, "real_weights": True,
        "fp32_onnx": {"path": str(fp32_path), "sha256": files.sha256_file(fp32_path)},
        "data": {"folder": str(folder), "split": f"calibration = the demo's calibration pool ({data.SPLIT_RULE}) "
                 f"topped up with the first images of its evaluation pool to {len(calib_items)}; evaluation = the "
                 f"other {len(eval_items)} images", "calibration_images": stats_c.to_dict(),
                 "evaluation_images": stats_e.to_dict(), "calibration_sha256": data.data_hash(calib_items),
                 "evaluation_sha256": data.data_hash(eval_items)},
        "execution": "ONNX Runtime CPU, Q/DQ emulated in float (TensorRT INT8 numerics), basic graph optimizations",
        "placement": "ModelOpt ONNX PTQ (max) Q/DQ placement; activation scales = amax / 127 from the project's calibrators",
        "methods": list(methods), "small_set_methods": list(small_methods),
        "unrepresentative_methods": {k: list(v) for k, v in unrep_methods.items()}, "draws": {str(k): v for k, v in draws.items()},
        "fp32": fp32, "counts": count_rows, "unrepresentative": unrep,
        "sensitivity": {"calibrator": best, "images": sens_images, "method": "one layer group quantized at a time, "
                        "all others FP32; relative L2 error of the logits vs FP32", "rows": sens},
        "keep_fp32": {"calibrator": best, "ranking": "largest sensitivity first", "rows": keep_rows},
        "seconds": round(time.perf_counter() - t_start, 1), "provenance": provenance.collect(gpu=False),
    }


def main(argv=None) -> int:
    from demos.errors import run_cli
    from demos.resnet50 import common

    p = common.OneLineParser(prog="python -m demos.resnet50.calib_study", description=__doc__.splitlines()[0])
    p.add_argument("--onnx", type=Path, required=True, help="FP32 ONNX with real weights (from the export stage)")
    p.add_argument("--data", type=Path, default=data.SAMPLES)
    p.add_argument("--calib-images", type=common.positive_int, default=500,
                   help="calibration images of the study's split (default 500)")
    p.add_argument("--workdir", type=Path, default=Path("build") / "calib_study")
    p.add_argument("--sens-images", type=common.positive_int, default=16,
                   help="evaluation images for per-layer sensitivity (default 16)")
    p.add_argument("--out", type=Path, required=True, help="JSON result file")

    def study() -> None:
        args = p.parse_args(argv)
        if args.out.suffix != ".json" or args.out.is_dir():
            raise UserError(f"--out {args.out}: give a .json file name")
        counts = tuple(c for c in COUNTS if c < args.calib_images) + (args.calib_images,)
        from demos.resnet50.workdir import Workdir

        with Workdir(args.workdir).session("calib_study", 64 * 2**20):
            rec = run_study(args.onnx, args.workdir, args.data, args.calib_images, counts, sens_images=args.sens_images)
        rec["command"] = "python -m demos.resnet50.calib_study " + " ".join(argv if argv is not None else sys.argv[1:])
        files.write_json(args.out, rec)
        print(f"wrote {args.out}")

    return run_cli(study)


if __name__ == "__main__":
    sys.exit(main())
