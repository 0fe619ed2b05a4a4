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
import tempfile
import time
from pathlib import Path

import numpy as np

from demos import data, onnx_tools
from demos.resnet50 import common
from demos.resnet50.workdir import Workdir


def convert(fp32_path: str | Path, out: str | Path, calibration: np.ndarray | None = None,
            data_max: float = 512.0, op_types_to_exclude: list[str] | None = None) -> dict:
    """Write the FP16 model of ``fp32_path`` to ``out``; ``calibration`` are real inputs for AutoCast."""
    from modelopt.onnx.autocast import convert_to_mixed_precision

    src = onnx_tools.load(fp32_path)
    spec = onnx_tools.spec_of(src, fp32_path)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        calib_path = None
        if calibration is not None:
            calib_path = str(Path(tmp) / "calibration.npz")
            np.savez(calib_path, **{onnx_tools.input_name(src): calibration.astype(np.float32)})
        model = convert_to_mixed_precision(str(fp32_path), low_precision_type="fp16", keep_io_types=True,
                                           data_max=data_max, calibration_data=calib_path,
                                           op_types_to_exclude=op_types_to_exclude or [])
    onnx_tools.set_metadata(model, onnx_tools.metadata(src))
    onnx_tools.save(model, out)
    return {"model": spec.name, "weights": spec.weights_label, "real_weights": spec.real_weights,
            "file": str(out), "bytes": Path(out).stat().st_size, "seconds": round(time.perf_counter() - t0, 1),
            "data_max": data_max, "calibration_images": 0 if calibration is None else len(calibration),
            **precision_summary(model)}


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
    p.add_argument("--data-max", type=float, default=512.0,
                   help="keep nodes in FP32 whose activations exceed this magnitude (default 512)")
    p.add_argument("--exclude-op-types", nargs="*", default=[], help="op types to keep in FP32")
    common.add_data_arguments(p, calib=True)
    p.set_defaults(calib_count=16)


def run(args) -> dict:
    wd = Workdir(args.workdir)
    src = common.onnx_arg(args, "onnx", wd, "fp32.onnx")
    out = args.out or wd.path("fp16.onnx")
    spec = onnx_tools.spec_of(onnx_tools.load(src), src)
    stats = data.LoadStats()
    x, _ = data.load_array(common.calibration_items(args), spec.preprocess, stats, progress="AutoCast data")
    rec = convert(src, out, x, args.data_max, args.exclude_op_types)
    rec["images"] = stats.to_dict()
    kept = len(rec["fp32_nodes"])
    print(f"FP16 model -> {out}: {sum(rec['fp16_nodes'].values())} nodes in FP16, {kept} kept in FP32, "
          f"{rec['casts']} casts; inputs/outputs FP32")
    wd.record("fp16", "fp16", rec)
    return rec
