"""Stage ``report``: every result of a workdir in one JSON file, one Markdown table and one plot.

It reads the stage records in ``WORKDIR/results/`` (export, fp16, ptq, qat, build, eval, bench) and any extra
result files given with ``--extra`` (for example the committed GPU benchmark,
``demos/resnet50/results/bench_gpu_*.json``), and writes ``report.json``, ``report.md`` and ``report.png``.

Accuracy appears only for real weights. With random weights (pipeline checks) the table keeps the numerical
columns (agreement with FP32, logit error: they check the pipeline, not the model) and says in place of
every accuracy figure that there is none.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from demos import files, locations, provenance
from demos.errors import UserError
from demos.resnet50.workdir import Workdir

PRECISION = {"fp32": "FP32", "fp16": "FP16 (AutoCast)", "int8_max": "INT8 PTQ max", "int8_entropy": "INT8 PTQ entropy",
             "int8_percentile": "INT8 PTQ percentile", "int8_mse": "INT8 PTQ mse", "int8_qat": "INT8 QAT",
             "cpu_int8_trt_scales": "INT8 CPU form, TensorRT scales", "cpu_int8_best": "INT8 CPU form, ORT asymmetric"}


def load_results(wd: Workdir, extra: list[Path]) -> list[dict]:
    """The records of ``wd`` (checked to belong to its model, see :func:`check_lineage`) and the ``extra`` files."""
    paths = sorted(wd.results.glob("*.json")) if wd.results.is_dir() else []
    own, out = [], []
    for p in [*paths, *extra]:
        rec = files.read_json(p, "result file")
        check_record(p, rec)
        rec["_file"] = str(p)
        (own if p in paths else out).append(rec)
    check_lineage(wd, own)
    out = own + out
    if not out:
        raise UserError(f"no results in {wd.results}; run the stages (export, ptq, eval, bench) first")
    return out


# What the report reads from each kind of record; a record without it was not written by this demo.
_REQUIRED = {"eval": ("variant", "backend"), "bench": ("backend", "results"), "build": ("engines",)}
_BENCH_RESULT = ("variant", "batch", "images_per_s", "latency_ms")


def check_record(path: Path, rec) -> None:
    """Refuse, in one line, a file that is not a result record this report can read."""
    if not isinstance(rec, dict) or not isinstance(rec.get("stage"), str):
        raise UserError(f"{path} is not a result record of this demo (a JSON object with a \"stage\"); "
                        "remove it from results/ or --extra")
    missing = [k for k in _REQUIRED.get(rec["stage"], ()) if rec.get(k) in (None, "")]
    if rec["stage"] == "bench" and not missing:
        for r in rec["results"] if isinstance(rec["results"], list) else [None]:
            if not isinstance(r, dict) or any(k not in r for k in _BENCH_RESULT) or "p50" not in (r.get("latency_ms") or {}):
                missing = [f"results[].{k}" for k in _BENCH_RESULT]
                break
    if missing:
        raise UserError(f"{path} is a {rec['stage']} record without {', '.join(missing)} (not written by this "
                        f"demo, or by an older version); rerun `{rec['stage']}` or delete it")


def check_lineage(wd: Workdir, records: list[dict]) -> None:
    """Refuse records of another model, or of an earlier ``fp32.onnx``, or of files that have changed since.

    The workdir's model is its ``fp32.onnx`` (or, without it, its export record). Every record names the
    ``fp32.onnx`` it descends from (``fp32_sha256``); evaluation and benchmark results also name the hash of
    the file they measured, and engines the hash of the ONNX file they were built from.
    """
    from demos import onnx_tools

    fp32 = wd.path("fp32.onnx")
    export = next((r for r in reversed(records) if r.get("stage") == "export"), None)
    sha, ident = None, None
    if fp32.is_file():
        spec = onnx_tools.spec_of(onnx_tools.load(fp32), fp32)
        sha, ident = files.sha256_file(fp32), (spec.name, spec.weights_label)
    elif export is not None:
        sha, ident = export.get("fp32_sha256"), (export.get("model"), export.get("weights"))
    named = {(r["model"], r.get("weights")) for r in records if r.get("model")}
    if ident is None and len(named) > 1:
        raise UserError(f"{wd.results} holds records of {len(named)} models ({', '.join(sorted(m for m, _ in named))}); "
                        "use one workdir per model")
    current: dict[str, str | None] = {}

    root = wd.root.resolve()

    def now(path) -> str | None:  # hash of a file of the workdir as it is now (None: not there, or elsewhere)
        if path not in current:
            p = Path(path).resolve() if path else None
            current[path] = files.sha256_file(p) if p and p.is_relative_to(root) and p.is_file() else None
        return current[path]

    for r in records:
        where, stage = r["_file"], r["stage"]
        if stage == "bench" and r.get("backend") != "ort":
            continue  # PyTorch benchmarks run their own random-weight ResNet50, not the workdir's model
        if ident is not None and r.get("model") and (r["model"], r.get("weights")) != ident:
            raise UserError(f"{where} holds results of {r['model']} ({r.get('weights')}), but the workdir's model "
                            f"is {ident[0]} ({ident[1]}); delete it, or use one workdir per model")
        if sha is None:
            continue
        shas = [r.get("fp32_sha256")] if stage != "bench" else [x.get("fp32_sha256") for x in r["results"]]
        if stage == "build":
            shas = []  # engines are checked against their ONNX files below
        if any(s is None for s in shas):
            raise UserError(f"{where} does not say which fp32.onnx it was made from (written by an older version "
                            f"of the demo); rerun `{stage}` or delete it")
        if any(s != sha for s in shas):
            raise UserError(f"{where} was made from another fp32.onnx than the workdir's (before the last export); "
                            f"rerun `{stage}` or delete it")
        measured = ([(r.get("model_file"), r.get("model_sha256"))] if stage == "eval" else
                    [(x.get("model_file"), x.get("model_sha256")) for x in r["results"]]
                    if stage == "bench" else
                    [(e.get("onnx"), e.get("onnx_sha256")) for e in r["engines"]] if stage == "build" else [])
        for path, recorded in measured:
            if recorded is not None and now(path) is not None and now(path) != recorded:
                raise UserError(f"{where} describes an earlier {Path(path).name} (the file has changed since); "
                                f"rerun `{stage}` or delete it")


def build_report(results: list[dict]) -> dict:
    by_stage: dict[str, list[dict]] = {}
    for r in results:
        by_stage.setdefault(r.get("stage", "?"), []).append(r)
    export = (by_stage.get("export") or [{}])[-1]
    real = bool(export.get("real_weights", False))
    rows: dict[str, dict] = {}
    for e in by_stage.get("eval", []):
        if e.get("backend") != "ort":
            continue
        rows[e["variant"]] = {"variant": e["variant"], "precision": PRECISION.get(e["variant"], e["variant"]),
                              "top1": e.get("top1") if real else None, "top5": e.get("top5") if real else None,
                              "agreement": e.get("agreement_top1_with_fp32"), "rel_l2": e.get("rel_l2_vs_fp32"),
                              "images": e.get("images"), "execution": e.get("execution"),
                              "file_mb": _mb(e.get("model_file"))}
    for b in by_stage.get("bench", []):
        if b.get("backend") == "ort":
            for r in b.get("results", []):
                row = rows.setdefault(r["variant"], {"variant": r["variant"],
                                                     "precision": PRECISION.get(r["variant"], r["variant"])})
                row.setdefault("cpu", {})[str(r["batch"])] = {"images_per_s": r["images_per_s"],
                                                              "p50_ms": r["latency_ms"]["p50"],
                                                              "p99_ms": r["latency_ms"]["p99"],
                                                              "threads": r.get("threads")}
    for b in by_stage.get("build", []):
        for eng in b.get("engines", []):
            name = Path(eng.get("onnx", "")).stem
            if name in rows:
                rows[name].setdefault("engines", []).append(
                    {"backend": eng.get("backend"), "plan_mb": round(eng.get("plan_bytes", 0) / 1e6, 1),
                     "build_seconds": eng.get("build_seconds")})
    gpu = [b for b in by_stage.get("bench", []) if b.get("backend") == "torch-cuda"]
    ptq = (by_stage.get("ptq") or [{}])[-1]
    qat = (by_stage.get("qat") or [{}])[-1]
    dataset = next((e.get("dataset") for e in by_stage.get("eval", []) if e.get("dataset")), None)
    return {
        "model": export.get("model"), "weights": export.get("weights"), "real_weights": real,
        "accuracy_note": None if real else "random weights: pipeline check only, no accuracy is reported",
        "dataset": dataset, "calibration": ptq.get("calibration"), "qat": {k: qat.get(k) for k in (
            "images", "epochs", "steps", "lr", "lr_schedule", "loss", "loss_first", "loss_last") if k in qat},
        "rows": sorted(rows.values(), key=lambda r: (list(PRECISION).index(r["variant"]) if r["variant"] in PRECISION
                                                     else len(PRECISION), r["variant"])),
        "gpu_benchmarks": [gpu_benchmark(g) for g in gpu],
        "provenance": {"report": provenance.collect(gpu=False),
                       "measurements": sorted({json.dumps(_prov_summary(r.get("provenance")), sort_keys=True)
                                               for r in results if r.get("provenance")})},
        "sources": [r["_file"] for r in results],
    }


def gpu_benchmark(record: dict) -> dict:
    """The report's view of one ``bench --backend torch-cuda`` record, whatever configurations it holds.

    Records written before ``bench`` compared itself with MLPerf get the comparison computed here, from the
    same function.
    """
    comparison = record.get("comparison")
    if not comparison and record.get("results"):
        from demos.resnet50.bench import gpu_comparison

        gpu = (record.get("provenance") or {}).get("gpu") or {}
        comparison = gpu_comparison(record["results"], gpu.get("name"), gpu.get("sm_count"))
    return {"results": record.get("results") or [], "skipped": record.get("skipped") or [],
            "comparison": comparison or {}, "provenance": record.get("provenance"), "file": record.get("_file")}


def config_label(r: dict) -> str:
    """``fp16, channels_last, torch.compile(max-autotune)``: how a PyTorch configuration was run."""
    parts = [r.get("dtype") or r.get("variant", "?")]
    if r.get("channels_last"):
        parts.append("channels_last")
    if r.get("compile_mode"):
        parts.append(f"torch.compile({r['compile_mode']})")
    if r.get("freezing"):
        parts.append("frozen")
    return ", ".join(parts)


def _mb(path) -> float | None:
    try:
        return round(Path(path).stat().st_size / 1e6, 1)
    except (TypeError, OSError):
        return None


def _prov_summary(p: dict) -> dict:
    v = p.get("versions", {})
    gpu = p.get("gpu") or {}
    host = p.get("host", {})
    # INT8 on a CPU depends on its byte dot-product instructions: name them (or their absence) next to the CPU.
    int8_isa = provenance.int8_dot_product(host.get("cpu_flags") or [])
    return {"date": p.get("date", "")[:10], "cpu": host.get("cpu"),
            "int8_dot_product": (", ".join(int8_isa) or "none (no VNNI)") if "cpu_flags" in host else None,
            "cpu_count": host.get("cpu_count"), "gpu": gpu.get("name"), "driver": gpu.get("driver"),
            "torch": v.get("torch"), "onnxruntime": v.get("onnxruntime"), "modelopt": v.get("nvidia-modelopt"),
            "tensorrt": v.get("tensorrt"), "tensorrt_rtx": v.get("tensorrt-rtx-cu13-bindings")}


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.2f}"


def markdown(rep: dict) -> str:
    lines = [f"# {rep['model']} low-precision report", ""]
    lines += accuracy_lines(rep)
    for g in rep.get("gpu_benchmarks", []):
        lines += [""] + gpu_lines(g)
    lines += ["", "## Provenance", ""] + provenance_lines(rep) + [""]
    return "\n".join(lines)


def accuracy_lines(rep: dict) -> list[str]:
    """Model, data and the table of every variant: accuracy, agreement, CPU speed, sizes."""
    lines = [f"Model: **{rep['model']}**, weights: **{rep['weights']}**."]
    if not rep["real_weights"]:
        lines += ["", "> **Pipeline check with random weights.** No accuracy is reported: top-1/top-5 of random "
                      "weights mean nothing. Agreement and logit error below only show that each conversion "
                      "reproduces the FP32 model's numbers."]
    ds = rep.get("dataset") or {}
    if ds:
        folder = locations.shown(ds["folder"]) if ds.get("folder") else None  # no machine path on a page
        lines.append(f"Evaluation data: {ds.get('loaded')} images of `{folder}` ({ds.get('split')}; "
                     f"{ds.get('skipped', 0)} unreadable skipped). Calibration: "
                     f"{(rep.get('calibration') or {}).get('images', {}).get('loaded', '—')} images of the disjoint "
                     "calibration pool.")
    lines += ["", "| variant | top-1 % | top-5 % | agreement with FP32 % | rel. L2 of logits | ORT CPU img/s (batch 8) "
                  "| ORT p50 ms | size MB | TensorRT plan |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rep["rows"]:
        cpu = (r.get("cpu") or {}).get("8") or {}
        eng = ", ".join(f"{e['backend']} {e['plan_mb']} MB" for e in r.get("engines", [])) or "—"
        t1 = _pct(r.get("top1")) if rep["real_weights"] else "n/a (random)"
        t5 = _pct(r.get("top5")) if rep["real_weights"] else "n/a (random)"
        rel = "—" if r.get("rel_l2") is None else f"{r['rel_l2']:.2e}"
        ips = f"{cpu['images_per_s']:.1f}" if cpu else "—"
        p50 = f"{cpu['p50_ms']:.0f}" if cpu else "—"
        lines.append(f"| {r['precision']} | {t1} | {t5} | {_pct(r.get('agreement'))} | {rel} | {ips} | {p50} | "
                     f"{r.get('file_mb') or '—'} | {eng} |")
    counts = {r.get("images") for r in rep["rows"] if r.get("images")}
    if len(counts) > 1:
        lines += ["", f"> Note: the rows were evaluated on different numbers of images ({sorted(counts)}); rerun `eval` "
                      "for all models with the same `--eval-count` before comparing them."]
    return lines


def gpu_lines(g: dict) -> list[str]:
    """One PyTorch GPU benchmark (every configuration it holds) with its comparison and provenance."""
    prov = g.get("provenance") or {}
    gpu = prov.get("gpu") or {}
    lines = [f"## PyTorch on {gpu.get('name', 'GPU')} (random-weight ResNet50: speed does not depend on the "
             "weights)", "",
             "| configuration | how | batch | img/s | p50 ms | p99 ms | compile s |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in g.get("results") or []:
        cs = f"{r['compile_seconds']:.0f}" if r.get("compile_seconds") else "—"
        lines.append(f"| {r['variant']} | {config_label(r)} | {r['batch']} | {r['images_per_s']:,.0f} | "
                     f"{r['latency_ms']['p50']:.2f} | {r['latency_ms']['p99']:.2f} | {cs} |")
    for s in g.get("skipped") or []:
        lines.append(f"| {s} | skipped | | | | | |")
    c = g.get("comparison") or {}
    if c.get("best_config"):
        best = (f"Best: {c['best_config']} at batch {c['best_batch']}, {c['best_images_per_s']:,.0f} img/s = "
                f"{c['achieved_tflops']:.0f} TFLOPS at {c['gflop_per_image']} GFLOP/image")
        if c.get("ratio_to_mlperf") is not None:
            best += (f"; {c['ratio_to_mlperf']:.2f}x the MLPerf Inference TensorRT INT8 result per {c['mlperf_gpu']} "
                     f"({c['mlperf_tensorrt_int8_images_per_s']:,} img/s, offline, {c.get('mlperf_round', '')})")
        lines += ["", best + "."]
    versions = prov.get("versions") or {}
    lines.append(f"Measured {prov.get('date', '?')}, driver {gpu.get('driver', '?')}, CUDA {gpu.get('torch_cuda', '?')}, "
                 f"torch {versions.get('torch')}; source `{g.get('file')}`.")
    return lines


def provenance_lines(rep: dict) -> list[str]:
    return ["- " + ", ".join(f"{k}: {v}" for k, v in json.loads(p).items() if v)
            for p in rep["provenance"]["measurements"]]


def bench_lines(record: dict) -> list[str]:
    """A table of one ``bench`` record of any backend (e.g. ONNX Runtime on CPU), with its provenance."""
    prov = record.get("provenance") or {}
    results = record.get("results") or []
    fp32 = {(r["backend"], r["batch"]): r["images_per_s"] for r in results if r["variant"] == "fp32"}
    lines = ["| model | backend | batch | img/s | × FP32 | p50 ms | p99 ms |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        base = fp32.get((r["backend"], r["batch"]))
        ratio = f"{r['images_per_s'] / base:.2f}" if base else "—"
        lines.append(f"| {r['variant']} | {r['backend']} | {r['batch']} | {r['images_per_s']:,.1f} | {ratio} | "
                     f"{r['latency_ms']['p50']:.1f} | {r['latency_ms']['p99']:.1f} |")
    summary = _prov_summary(prov)
    lines.append("Measured on " + ", ".join(f"{k}: {v}" for k, v in summary.items() if v)
                 + (f", load average {record['load_average'][0]:.1f}" if record.get("load_average") else "")
                 + (f"; source `{record['_file']}`" if record.get("_file") else "") + ".")
    return lines


def figure(rep: dict, title: str | None = None):
    """Accuracy (or agreement, for random weights), ONNX Runtime CPU throughput and file sizes per variant.

    ``title`` (what the figure shows) goes above the line that says where it ran; the figure's titles are its
    alt text on a gallery page.  Giving it here, not with ``fig.suptitle`` afterwards, also keeps a gallery
    cell from ending with an expression whose repr (``Text(...)``) would be printed on the page.
    """
    import matplotlib.pyplot as plt

    rows = rep["rows"]
    names = [r["precision"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 0.45 * len(rows) + 2.2), sharey=True)
    if rep["real_weights"]:
        vals = [100 * (r.get("top1") or 0) for r in rows]
        axes[0].barh(names, vals, color="tab:blue")
        axes[0].set_xlabel(f"top-1 % ({(rep.get('dataset') or {}).get('loaded', '?')} images)")
        lo = min((v for v in vals if v > 0), default=0)
        axes[0].set_xlim(max(0, lo - 5), min(100, max(vals, default=0) + 3))
    else:
        vals = [100 * (r.get("agreement") or 0) for r in rows]
        axes[0].barh(names, vals, color="tab:gray")
        axes[0].set_xlabel("top-1 agreement with FP32 %\n(random weights: no accuracy)")
    for y, v in enumerate(vals):
        if v:
            axes[0].text(v, y, f" {v:.1f}", va="center", fontsize=8)
    cpu = [((r.get("cpu") or {}).get("8") or {}).get("images_per_s", 0) for r in rows]
    axes[1].barh(names, cpu, color="tab:green")
    for y, v in enumerate(cpu):
        axes[1].text(v, y, f" {v:.0f}" if v else " not measured", va="center", fontsize=8)
    axes[1].set_xlabel("ONNX Runtime CPU images/s (batch 8)")
    axes[1].set_xlim(0, max(cpu, default=0) * 1.25 or 1)
    onnx_mb = [r.get("file_mb") or 0 for r in rows]
    plan_mb = [max((e.get("plan_mb") or 0 for e in r.get("engines", [])), default=0) for r in rows]
    ys = range(len(rows))
    axes[2].barh([y - 0.2 for y in ys], onnx_mb, height=0.4, color="tab:orange", label="ONNX file")
    axes[2].barh([y + 0.2 for y in ys], plan_mb, height=0.4, color="tab:purple", label="TensorRT(-RTX) plan")
    axes[2].set_xlabel("size MB")
    axes[2].legend(fontsize=8, loc="lower right")
    axes[0].invert_yaxis()
    ds = rep.get("dataset") or {}
    # The CPU measurements of the run (a report may also list --extra GPU benchmarks, measured elsewhere).
    measured = [json.loads(m) for m in rep["provenance"]["measurements"]]
    prov = next((m for m in measured if not m.get("gpu")), measured[0] if measured else {})
    where = (f"{rep['model']} ({rep['weights']}); {ds.get('loaded', '?')} eval images; "
             f"CPU {prov.get('cpu')} x{prov.get('cpu_count')}, onnxruntime {prov.get('onnxruntime')}; "
             f"{prov.get('date')}")
    fig.suptitle(f"{title}\n{where}" if title else where, fontsize=9)
    fig.tight_layout()
    return fig


def gpu_figure(rep: dict):
    """Throughput of every PyTorch configuration on each GPU, with MLPerf's TensorRT INT8 figure; None if none."""
    import matplotlib.pyplot as plt

    benches = [g for g in rep.get("gpu_benchmarks", []) if g.get("results")]
    if not benches:
        return None
    rows = max(len(g["results"]) for g in benches)
    fig, axes = plt.subplots(len(benches), 1, figsize=(10, (0.4 * rows + 1.6) * len(benches)), squeeze=False)
    for ax, g in zip(axes[:, 0], benches):
        res = g["results"]
        labels = [f"{r['variant']} (batch {r['batch']})" for r in res]
        vals = [r["images_per_s"] for r in res]
        ax.barh(labels, vals, color="tab:green")
        for y, v in enumerate(vals):
            ax.text(v, y, f" {v:,.0f}", va="center", fontsize=8)
        c = g.get("comparison") or {}
        if c.get("mlperf_tensorrt_int8_images_per_s"):
            ax.axvline(c["mlperf_tensorrt_int8_images_per_s"], color="tab:red", ls="--",
                       label=f"MLPerf TensorRT INT8 per {c['mlperf_gpu']} ({c.get('mlperf_round', '')})")
            ax.legend(fontsize=8, loc="center right")
        ax.invert_yaxis()
        ax.set_xlabel("images/s (PyTorch, random-weight ResNet50)")
        prov = g.get("provenance") or {}
        gpu = prov.get("gpu") or {}
        ax.set_title(f"{gpu.get('name', 'GPU')}, driver {gpu.get('driver', '?')}, torch "
                     f"{(prov.get('versions') or {}).get('torch')}, {str(prov.get('date', ''))[:10]}", fontsize=9)
    fig.tight_layout()
    return fig


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    with files.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def plot(rep: dict, path: Path) -> list[Path]:
    """Write the report figure to ``path`` (and the GPU figure beside it, if there are GPU results)."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # the CLI draws into files; a page keeps its own backend
    written = [path]
    _save(figure(rep), path)
    gfig = gpu_figure(rep)
    if gfig is not None:
        gpath = path.with_name(path.stem + "_gpu.png")
        _save(gfig, gpath)
        written.append(gpath)
    return written


def add_arguments(p) -> None:
    p.add_argument("--extra", nargs="*", type=Path, default=[],
                   help="more result JSON files, e.g. demos/resnet50/results/bench_gpu_*.json")
    p.add_argument("--out", type=Path, help="output prefix (default WORKDIR/report -> .json .md .png)")


def run(args) -> dict:
    wd = Workdir(args.workdir)
    rep = build_report(load_results(wd, args.extra))
    prefix = args.out or wd.path("report")
    files.write_json(Path(f"{prefix}.json"), rep)
    files.write_text(Path(f"{prefix}.md"), markdown(rep))
    pngs = plot(rep, Path(f"{prefix}.png"))
    print(markdown(rep))
    print(f"report -> {prefix}.json, {prefix}.md, {', '.join(str(p) for p in pngs)}")
    return rep
