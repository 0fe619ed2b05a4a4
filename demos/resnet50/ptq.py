"""Stage ``ptq``: INT8 explicit quantization (Q/DQ ONNX) with the calibrators max, entropy, percentile, mse.

How each INT8 model is made:

1. ModelOpt's ONNX PTQ (``modelopt.onnx.quantization.quantize``) places the Q/DQ nodes the way TensorRT
   wants them (inputs of Conv/Gemm, residual Adds; per-channel weights) and calibrates with ``max`` or
   ``entropy``, the methods it implements. It rewrites its input file, so it is given a copy.
   ``high_precision_dtype="fp32"`` keeps the non-quantized parts FP32: ONNX Runtime's CPU QuantizeLinear
   mishandles FP16 inputs, and ORT is how this demo checks numerics. (For a TensorRT-only deployment,
   ``--high-precision fp16`` gives FP16 elsewhere.)
2. For ``percentile`` and ``mse`` (ModelOpt's ONNX PTQ has no MSE and silently runs ``max`` when asked for
   ``percentile``), the project's calibrators (:mod:`demos.quant`) compute amax from histograms of the FP32
   activations (:mod:`demos.resnet50.calibration`) and the demo writes ``amax / 127`` into the Q/DQ scales
   of the ModelOpt placement itself (:mod:`demos.resnet50.qdq`). ``max`` is cross-checked: the project's
   max amax must equal ModelOpt's.
3. Each model comes with its scales as JSON and in TensorRT's calibration cache format (``*.calib.cache``),
   for ModelOpt's import (``calibration_cache_path``) and for reading. It lists the Q/DQ activations only,
   so it is not a cache for TensorRT 10's legacy calibrator (that one writes its own, see
   :mod:`demos.trt.legacy`); its header names the installed TensorRT version, or 0.

Also written: the CPU INT8 forms (:mod:`demos.resnet50.cpu_int8`), and, with ``--trt10-legacy`` on a machine
with TensorRT 10 and a GPU, an engine calibrated by the legacy ``IInt8EntropyCalibrator2`` with its cache.

Calibration images come from the calibration pool of the data folder, which never overlaps the evaluation
pool (see :mod:`demos.data`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from demos import data, files, onnx_tools, quiet
from demos.errors import UserError
from demos.resnet50 import calibration, common, cpu_int8, qdq, workdir
from demos.resnet50.workdir import Workdir

MODELOPT_METHODS = ("max", "entropy")  # what ModelOpt's ONNX INT8 PTQ really implements


def modelopt_quantize(fp32_path, out, calib: np.ndarray, method: str, high_precision: str = "fp32",
                      batch: int = 8, lineage: tuple[str | None, dict] | None = None):
    """ModelOpt ONNX PTQ on a copy of ``fp32_path``; returns the quantized ONNX model (also saved to ``out``).

    ``lineage``: ``(fp32 sha256, inputs)`` written into the file's metadata (:func:`demos.resnet50.workdir.stamp`).
    """
    if method not in MODELOPT_METHODS:
        raise ValueError(f"ModelOpt's ONNX PTQ implements {MODELOPT_METHODS}, not {method!r}")
    from modelopt.onnx.quantization import quantize

    src = onnx_tools.load(fp32_path)
    name = onnx_tools.input_name(src)
    batch = max(1, min(batch, len(calib)))
    n = len(calib) // batch * batch  # ModelOpt splits the array into equal steps
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "input.onnx"
        shutil.copyfile(fp32_path, copy)  # quantize() rewrites the file it is given
        result = Path(tmp) / "output.onnx"
        # Without an NVIDIA driver ModelOpt logs an ERROR while it counts GPUs, then calibrates on the CPU:
        # demos.quiet shows a one-line note instead (once per stage run).
        with quiet.notes():
            quantize(str(copy), quantize_mode="int8", calibration_data={name: calib[:n]},
                     calibration_method=method,
                     calibration_shapes=f"{name}:{batch}x{'x'.join(str(d) for d in calib.shape[1:])}",
                     calibration_eps=["cpu"], high_precision_dtype=high_precision, output_path=str(result),
                     log_level="WARNING")
        model = onnx_tools.load(result)
    onnx_tools.set_metadata(model, onnx_tools.metadata(src))
    if lineage is not None:
        workdir.stamp(model, *lineage)
    onnx_tools.save(model, out)
    return model


def placement(fp32_path, out, x: np.ndarray, high_precision: str = "fp32", data_hash: str | None = None) -> Path:
    """ModelOpt's Q/DQ placement for ``fp32_path`` (its ``max`` model on ``x``), kept at ``out`` and reused only
    while the key of its inputs (FP32 model hash, data hash, high precision, library versions), stored in the
    file's metadata, is the same.

    The placement says which tensors get Q/DQ and holds the weight scales; the project's calibrators overwrite
    its activation scales.
    """
    import hashlib

    fp32_sha = files.sha256_file(fp32_path)
    key = {"placement_of": fp32_sha, "data_sha256": data_hash or hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest(),
           "high_precision": high_precision, "versions": common.library_versions()}
    out = Path(out)
    if out.is_file():
        meta = onnx_tools.metadata(onnx_tools.load(out, "Q/DQ placement"))
        if meta.get(workdir.INPUTS_KEY) == files.sha256_json(key):
            return out
    modelopt_quantize(fp32_path, out, x, "max", high_precision, lineage=(fp32_sha, key))
    return out


def quantize_all(fp32_path, wd: Workdir, items: list[data.Item], methods=calibration.METHODS,
                 entropy_source: str = "modelopt", percentile: float = 99.99, high_precision: str = "fp32",
                 cpu_forms: bool = True, cpu_from: str = "max", reduce_range: str = "auto") -> dict:
    """Write ``int8_<method>.onnx`` for each method (and the CPU forms); return the stage record.

    Every file carries the hash of ``fp32_path`` and of its own inputs (calibration data, method, options,
    versions) in its metadata; the record lists them under ``inputs``.
    """
    quiet.reset_notes()  # ModelOpt's NVML note, if any, once per stage run
    src = onnx_tools.load(fp32_path)
    spec = onnx_tools.spec_of(src, fp32_path)
    common.check_image_input(src, spec, fp32_path)
    fp32_sha = workdir.fp32_sha256_of(fp32_path, src) or files.sha256_file(fp32_path)
    stats = data.LoadStats()
    x, _ = data.load_array(items, spec.preprocess, stats, progress="calibration images")
    data_hash = data.data_hash(items)
    base = {"fp32_sha256": fp32_sha, "data_sha256": data_hash, "images": len(items), "high_precision": high_precision,
            "versions": common.library_versions()}
    methods = sorted(methods, key=lambda m: m != "max")  # max first: its model is the others' placement
    t0 = time.perf_counter()
    collection = calibration.collect(fp32_path, lambda: (x[i:i + 8] for i in range(0, len(x), 8)),
                                     cache=wd.cache / f"activations_{data_hash[:12]}.npz", data_hash=data_hash,
                                     batch_size=8, total=len(x))
    collect_s = time.perf_counter() - t0
    cals = calibration.calibrators(percentile)
    record = {"model": spec.name, "weights": spec.weights_label, "real_weights": spec.real_weights,
              "calibration": {"images": stats.to_dict(), "data_sha256": data_hash, "folder": str(items[0].path.parent),
                              "split": f"calibration pool ({data.SPLIT_RULE})", "seconds": round(collect_s, 1),
                              "cached": collection.cached, "tensors": len(collection.collectors)},
              "high_precision": high_precision, "models": {}, "inputs": base}

    place = None
    for method in methods:
        t0 = time.perf_counter()
        out = wd.path(f"int8_{method}.onnx")
        inputs = {**base, "method": method}
        if method == "percentile":
            inputs["percentile"] = percentile
        if method == "entropy":
            inputs["entropy_source"] = entropy_source
        if method == "max" or (method == "entropy" and entropy_source == "modelopt"):
            model = modelopt_quantize(fp32_path, out, x, method, high_precision, lineage=(fp32_sha, inputs))
            source = f"ModelOpt ONNX PTQ ({method})"
        else:
            if place is None:
                place = placement(fp32_path, wd.cache / "placement.onnx", x, high_precision, data_hash)
            model = onnx_tools.load(place)
            wanted = qdq.activation_quantizers(model)
            amax = collection.amax(cals[method], wanted)
            report = qdq.write_amax(model, amax)
            if report["kept"]:
                print(f"note: {len(report['kept'])} quantizer(s) kept ModelOpt's scale (all-zero activations): "
                      f"{report['kept'][:3]}")
            workdir.stamp(model, fp32_sha, inputs)
            onnx_tools.save(model, out)
            source = f"project calibrator ({method}) written into ModelOpt's Q/DQ placement"
        if method == "max":
            place = out
        amax = qdq.read_amax(model)
        files.write_json(out.with_suffix(".amax.json"), {"method": method, "source": source, "amax": amax,
                                                         "fp32_sha256": fp32_sha, "inputs": inputs,
                                                         "onnx_sha256": files.sha256_file(out)})
        files.write_text(out.with_suffix(".calib.cache"), qdq.calibration_cache_text(amax))
        entry = {"file": str(out), "source": source, "quantized_activations": len(amax),
                 "sha256": files.sha256_file(out), "inputs_sha256": files.sha256_json(inputs),
                 "seconds": round(time.perf_counter() - t0, 1)}
        if method == "max":
            entry["max_check"] = _compare_max(collection, amax)
        record["models"][method] = entry
        print(f"INT8 ({method}) -> {out}  [{source}; {len(amax)} activation quantizers]")

    if cpu_forms:
        record["cpu_forms"] = _cpu_forms(fp32_path, wd, x, collection, cals, cpu_from, reduce_range)
        for form, r in record["cpu_forms"].items():  # written by ONNX Runtime's quantizer: stamped afterwards
            inputs = {**base, "cpu_form": form, "cpu_from": cpu_from, "reduce_range": reduce_range}
            workdir.stamp_file(r["file"], fp32_sha, inputs)
            r.update(sha256=files.sha256_file(r["file"]), inputs_sha256=files.sha256_json(inputs))
    return record


def _compare_max(collection, modelopt_amax: dict[str, float]) -> dict:
    """The project's max calibrator against ModelOpt's: they must agree to float32 rounding."""
    ours = collection.amax(calibration.calibrators()["max"], modelopt_amax)
    rel = [abs(ours[t] - a) / a for t, a in modelopt_amax.items() if t in ours and a > 0]
    worst = max(rel) if rel else 0.0
    if worst > 1e-5:
        print(f"WARNING: project max amax differs from ModelOpt's by up to {worst:.2e} (relative)")
    return {"tensors": len(rel), "max_relative_difference": worst}


def _cpu_forms(fp32_path, wd: Workdir, x, collection, cals, cpu_from: str, reduce_range: str) -> dict:
    trt_model = wd.path(f"int8_{cpu_from}.onnx")
    if not trt_model.exists():
        raise UserError(f"--cpu-from {cpu_from}: {trt_model} was not written; include {cpu_from} in --methods")
    # Every activation gets the same calibrator's amax; the tensors TensorRT quantizes get exactly the
    # scales of the TensorRT Q/DQ model.
    amax = collection.amax(cals[cpu_from])
    amax.update(qdq.read_amax(onnx_tools.load(trt_model)))
    out = {}
    rec = cpu_int8.quantize_trt_scales(fp32_path, wd.path("cpu_int8_trt_scales.onnx"), amax, x, reduce_range)
    rec["scales_from"] = str(trt_model)
    out["trt_scales"] = rec
    out["best"] = cpu_int8.quantize_best(fp32_path, wd.path("cpu_int8_best.onnx"), x, reduce_range)
    for form, r in out.items():
        print(f"CPU INT8 ({form}) -> {r['file']}  [{r['activations']}; weights {r['weights']}]")
    return out


def add_arguments(p) -> None:
    p.add_argument("--onnx", type=Path, help="FP32 ONNX (default WORKDIR/fp32.onnx)")
    p.add_argument("--methods", nargs="+", default=list(calibration.METHODS), choices=calibration.METHODS)
    p.add_argument("--entropy-source", choices=("modelopt", "project"), default="modelopt",
                   help="entropy via ModelOpt (ORT's KL calibrator) or the project's TensorRT-style KL calibrator")
    p.add_argument("--percentile", type=common.percentile, default=99.99,
                   help="percentile of |activation| the percentile calibrator keeps (0-100, default 99.99)")
    p.add_argument("--high-precision", choices=("fp32", "fp16"), default="fp32",
                   help="precision of the non-quantized parts (fp32: checkable on ONNX Runtime CPU)")
    p.add_argument("--no-cpu-forms", dest="cpu_forms", action="store_false",
                   help="skip the ONNX Runtime CPU INT8 forms")
    p.add_argument("--cpu-from", default="max", choices=calibration.METHODS,
                   help="calibrator whose TensorRT scales the trt_scales CPU form reuses (default max)")
    p.add_argument("--reduce-range", choices=("auto", "on", "off"), default="auto",
                   help="7-bit weights for dense convs at risk of int16 overflow in the CPU forms (auto: only without VNNI)")
    p.add_argument("--trt10-legacy", action="store_true",
                   help="also calibrate with TensorRT 10's IInt8EntropyCalibrator2 (needs TensorRT 10 and a GPU)")
    common.add_data_arguments(p, calib=True)


def check_arguments(args) -> None:
    if args.cpu_forms and args.cpu_from not in args.methods:
        raise UserError(f"--cpu-from {args.cpu_from} must be one of --methods ({' '.join(args.methods)})")


def run(args) -> dict:
    wd = Workdir(args.workdir)
    src = common.onnx_arg(args, "onnx", wd, "fp32.onnx")
    model = onnx_tools.load(src)
    common.check_image_input(model, onnx_tools.spec_of(model, src), src)
    items = common.calibration_items(args)
    wd.forget("ptq", "int8")  # from here on, the files of the last run change: its record no longer holds
    rec = quantize_all(src, wd, items, args.methods, args.entropy_source, args.percentile, args.high_precision,
                       args.cpu_forms, args.cpu_from, args.reduce_range)
    if args.trt10_legacy:
        from demos.trt import legacy

        rec["trt10_legacy"] = legacy.calibrate_from_args(src, wd, items, args)
    wd.record("ptq", "int8", rec, inputs=rec.pop("inputs"))
    return rec
