"""Stage ``fp16``: a strongly typed FP16 ONNX model with ModelOpt AutoCast (the TensorRT 11 way).

TensorRT 11 builds every network strongly typed: the precision of each tensor is the one in the ONNX file,
so FP16 has to be in the model. AutoCast converts nodes to FP16 and keeps in FP32 the nodes whose inputs or
outputs exceed ``data_max`` on real data (FP16's spacing is 0.5 at 512) or whose initializers would overflow,
and inserts the casts. Inputs and outputs stay FP32 (``keep_io_types``), so callers need not change.

TensorRT 10 users can instead build the FP32 ONNX with ``BuilderFlag.FP16`` (``build --trt10-fp16``):
TensorRT then picks FP16 kernels where it finds them faster (weak typing, removed in TensorRT 11).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from demos import data, onnx_tools
from demos.resnet50 import common
from demos.resnet50.workdir import Workdir

from demos.resnet50 import RESULTS  # committed result files of the demo


def convert(fp32_path: str | Path, out: str | Path, calibration: np.ndarray | None = None,
            data_max: float = 512.0, op_types_to_exclude: list[str] | None = None,
            lineage: tuple[str | None, dict] | None = None) -> dict:
    """Write the FP16 model of ``fp32_path`` to ``out``; ``calibration`` are real inputs for AutoCast.

    ``lineage``: ``(fp32 sha256, inputs)`` written into the file's metadata (:func:`demos.resnet50.workdir.stamp`).
    """
    from modelopt.onnx.autocast import convert_to_mixed_precision

    src = onnx_tools.load(fp32_path)
    spec = onnx_tools.spec_of(src, fp32_path)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, autocast_decisions() as log:
        calib_path = None
        if calibration is not None:
            calib_path = str(Path(tmp) / "calibration.npz")
            np.savez(calib_path, **{onnx_tools.input_name(src): calibration.astype(np.float32)})
        model = convert_to_mixed_precision(str(fp32_path), low_precision_type="fp16", keep_io_types=True,
                                           data_max=data_max, calibration_data=calib_path,
                                           op_types_to_exclude=op_types_to_exclude or [])
    onnx_tools.set_metadata(model, onnx_tools.metadata(src))
    if lineage is not None:
        from demos.resnet50 import workdir

        workdir.stamp(model, *lineage)
    onnx_tools.save(model, out)
    return {"model": spec.name, "weights": spec.weights_label, "real_weights": spec.real_weights,
            "file": str(out), "bytes": Path(out).stat().st_size, "seconds": round(time.perf_counter() - t0, 1),
            "data_max": data_max, "calibration_images": 0 if calibration is None else len(calibration),
            **precision_summary(model), "fp32_reasons": log.reasons, "autocast_warnings": log.warnings}


_SKIP = re.compile(r"Skipping node (?P<node>.+?): (?P<reason>.*)$")


@dataclass
class AutoCastLog:
    """What AutoCast said while converting: why each FP32 node stayed FP32, and its warnings."""

    reasons: dict[str, str] = field(default_factory=dict)  # node name -> AutoCast's reason
    warnings: list[str] = field(default_factory=list)


@contextlib.contextmanager
def autocast_decisions():
    """Collect AutoCast's own reasons for keeping nodes in FP32, and its warnings, quietly.

    AutoCast logs one INFO line per node it keeps in high precision ("Skipping node X: <rule>"), warnings
    (e.g. weights it had to change to fit FP16) and many progress lines to stdout. Inside this block the
    reasons and warnings go to the returned :class:`AutoCastLog` instead and the rest is dropped, so callers
    can show *why* a node stayed FP32 in AutoCast's own words.
    """
    from modelopt.onnx.autocast.logging_config import logger

    parent = logging.getLogger("modelopt.onnx")  # ModelOpt's own progress lines ("Successfully enabled ...")
    log = AutoCastLog()

    class _Collect(logging.Handler):
        def emit(self, record):
            message = record.getMessage()
            m = _SKIP.match(message)
            if m:
                log.reasons[m["node"]] = m["reason"]
            elif record.levelno >= logging.WARNING and message not in log.warnings:
                log.warnings.append(message)

    saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in (logger, parent)]
    logger.handlers, parent.handlers = [_Collect()], [_Collect()]
    logger.setLevel(logging.INFO)
    logger.propagate = parent.propagate = False
    try:
        yield log
    finally:
        for lg, handlers, level, propagate in saved:
            lg.handlers, lg.propagate = handlers, propagate
            lg.setLevel(level)


def weight_stats(onnx_path: str | Path) -> dict:
    """How the FP32 weights of a model fit FP16: count, largest magnitude, and how many non-zero values are
    FP16 subnormals (below ``2**-14``) or below the smallest FP16 subnormal (``2**-24``)."""
    from onnx import numpy_helper

    w = np.concatenate([numpy_helper.to_array(i).ravel() for i in onnx_tools.load(onnx_path).graph.initializer
                        if i.data_type == 1])  # TensorProto.FLOAT
    mag = np.abs(w)
    nonzero = mag > 0
    return {"values": int(w.size), "absmax": float(mag.max()),
            "above_fp16_max": int(np.count_nonzero(mag > FP16.max)),
            "subnormal": int(np.count_nonzero(nonzero & (mag < FP16.smallest_normal))),
            "below_smallest_subnormal": int(np.count_nonzero(nonzero & (mag < FP16.smallest_subnormal)))}


def convert_cached(fp32_path: str | Path, out: str | Path, calibration: np.ndarray, data_hash: str,
                   data_max: float = 512.0) -> dict:
    """:func:`convert`, skipped when ``out`` was written from the same FP32 file, data, threshold and
    versions (the key and the output's hash live in ``out.key.json``)."""
    import importlib.metadata as md

    from demos import files

    out = Path(out)
    key = {"fp32_sha256": files.sha256_file(fp32_path), "data_sha256": data_hash, "images": len(calibration),
           "data_max": data_max, "modelopt": md.version("nvidia-modelopt"),
           "code_sha256": files.sha256_file(__file__)}
    side = Path(str(out) + ".key.json")
    if out.exists() and side.exists():
        stored = files.read_json(side, "AutoCast cache key")
        if stored.get("key") == key and stored.get("onnx_sha256") == files.sha256_file(out):
            return {**stored["record"], "cached": True}
    rec = convert(fp32_path, out, calibration, data_max)
    files.write_json(side, {"key": key, "onnx_sha256": files.sha256_file(out), "record": rec})
    return rec


def autocast_on_graph(model, calibration: dict[str, np.ndarray], data_max: float = 512.0) -> dict:
    """AutoCast an in-memory FP32 ONNX model with ``calibration`` (input name -> array) as reference data;
    return which nodes became FP16, which stayed FP32 and AutoCast's reasons."""
    import onnx
    from modelopt.onnx.autocast import convert_to_mixed_precision

    with tempfile.TemporaryDirectory() as tmp, autocast_decisions() as log:
        path, npz = Path(tmp) / "model.onnx", Path(tmp) / "calibration.npz"
        onnx.save(model, str(path))
        np.savez(npz, **{k: v.astype(np.float32) for k, v in calibration.items()})
        out = convert_to_mixed_precision(str(path), low_precision_type="fp16", keep_io_types=True,
                                         data_max=data_max, calibration_data=str(npz))
    return {**precision_summary(out), "fp32_reasons": log.reasons, "autocast_warnings": log.warnings, "model": out}


def tensor_outputs(onnx_path: str | Path, x: np.ndarray, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Run ``onnx_path`` on ``x`` with ONNX Runtime (CPU) and return every float node output by name.

    ``names`` limits the result to those tensors. The model is changed in memory only: the tensors are added
    as graph outputs (with the types that ONNX shape inference gives them), so ONNX Runtime keeps them.
    """
    import onnx

    model = onnx.shape_inference.infer_shapes(onnx_tools.load(onnx_path))
    floats = (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)
    typed = {vi.name: vi for vi in list(model.graph.value_info) + list(model.graph.output)
             if vi.type.tensor_type.elem_type in floats}
    wanted = [o for n in model.graph.node if n.op_type not in ("Constant", "Cast") for o in n.output
              if o in typed and (names is None or o in names)]
    existing = {o.name for o in model.graph.output}
    model.graph.output.extend(typed[o] for o in wanted if o not in existing)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "all_outputs.onnx"
        onnx.save(model, str(path))
        sess = onnx_tools.session(path)
        inp = sess.get_inputs()[0].name
        got = sess.run(wanted, {inp: x.astype(np.float32, copy=False)})
    return {name: arr for name, arr in zip(wanted, got)}


FP16 = np.finfo(np.float16)


def range_stats(outputs: dict[str, np.ndarray]) -> list[dict]:
    """Per tensor: largest magnitude, and the share of non-zero values FP16 can only hold as subnormals
    (below ``2**-14``, fewer significant bits) or not at all (below half the smallest subnormal, ``2**-25``)."""
    rows = []
    tiny = float(FP16.smallest_subnormal) / 2
    for name, a in outputs.items():
        mag = np.abs(a.astype(np.float32, copy=False)).ravel()
        nonzero = mag[mag > 0]
        n = max(nonzero.size, 1)
        rows.append({"tensor": name, "absmax": float(mag.max()) if mag.size else 0.0,
                     "subnormal_share": float(np.count_nonzero(nonzero < FP16.smallest_normal)) / n,
                     "flush_share": float(np.count_nonzero(nonzero < tiny)) / n})
    return rows


def relative_errors(reference: dict[str, np.ndarray], other: dict[str, np.ndarray]) -> list[tuple[str, float]]:
    """Relative L2 error of each tensor of ``other`` against the same-named tensor of ``reference``, in
    the order of ``reference`` (tensors missing from ``other`` are skipped)."""
    out = []
    for name, ref in reference.items():
        if name in other and other[name].shape == ref.shape:
            r = ref.astype(np.float64)
            d = other[name].astype(np.float64) - r
            out.append((name, float(np.linalg.norm(d) / max(np.linalg.norm(r), 1e-30))))
    return out


def precision_summary(model) -> dict:
    """Which compute nodes run in FP16 and which stayed FP32 (by the element type of their first input)."""
    import onnx

    types = {vi.name: vi.type.tensor_type.elem_type for vi in
             list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output)}
    types.update({i.name: i.data_type for i in model.graph.initializer})
    fp16, fp32 = collections.Counter(), []
    for node in model.graph.node:
        if node.op_type in ("Cast", "Constant"):
            continue
        t = types.get(node.input[0]) if node.input else None
        if t == onnx.TensorProto.FLOAT16:
            fp16[node.op_type] += 1
        elif t == onnx.TensorProto.FLOAT:
            fp32.append(f"{node.name} ({node.op_type})")
    casts = sum(n.op_type == "Cast" for n in model.graph.node)
    return {"fp16_nodes": dict(fp16), "fp32_nodes": fp32, "casts": casts}


def add_arguments(p) -> None:
    p.add_argument("--onnx", type=Path, help="FP32 ONNX (default WORKDIR/fp32.onnx)")
    p.add_argument("--out", type=Path, help="output (default WORKDIR/fp16.onnx)")
    p.add_argument("--data-max", type=common.positive_float, default=512.0,
                   help="keep nodes in FP32 whose activations exceed this magnitude (default 512)")
    p.add_argument("--exclude-op-types", nargs="*", default=[], help="op types to keep in FP32")
    common.add_data_arguments(p, calib=True, calib_default=16)


def check_arguments(args) -> None:
    common.check_out(args)


def run(args) -> dict:
    from demos import files
    from demos.resnet50 import workdir

    wd = Workdir(args.workdir)
    src = common.onnx_arg(args, "onnx", wd, "fp32.onnx")
    out = args.out or wd.path("fp16.onnx")
    model = onnx_tools.load(src)
    spec = onnx_tools.spec_of(model, src)
    common.check_image_input(model, spec, src)
    items = common.calibration_items(args)
    wd.forget("fp16", "fp16")
    stats = data.LoadStats()
    x, _ = data.load_array(items, spec.preprocess, stats, progress="AutoCast data")
    inputs = {"fp32_sha256": workdir.fp32_sha256_of(src, model) or files.sha256_file(src),
              "data_sha256": data.data_hash(items), "images": len(items), "data_max": args.data_max,
              "exclude_op_types": sorted(args.exclude_op_types), "versions": common.library_versions()}
    rec = convert(src, out, x, args.data_max, args.exclude_op_types, lineage=(inputs["fp32_sha256"], inputs))
    rec["images"] = stats.to_dict()
    kept = len(rec["fp32_nodes"])
    print(f"FP16 model -> {out}: {sum(rec['fp16_nodes'].values())} nodes in FP16, {kept} kept in FP32, "
          f"{rec['casts']} casts; inputs/outputs FP32")
    for node, reason in rec["fp32_reasons"].items():
        print(f"  kept in FP32: {node}: {reason}")
    for warning in rec["autocast_warnings"]:
        print(f"  AutoCast: {warning}")
    wd.record("fp16", "fp16", rec, inputs=inputs)
    return rec
