"""Stage ``export``: a PyTorch model -> FP32 ONNX with a dynamic batch axis.

The file records the model, its weights and its preprocessing as metadata; ``--weights random`` is labelled
"pipeline check only" in it, and every later stage carries that label into its results.
The export is checked at once: ONNX Runtime on batch sizes 1 and 3 (proving the dynamic axis) must match
PyTorch.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from demos import files, models, onnx_tools
from demos.errors import UserError
from demos.resnet50 import workdir
from demos.resnet50.workdir import Workdir

INPUT, OUTPUT = "input", "logits"
# The opsets each exporter of torch 2.x writes as asked (others are silently replaced by its own choice).
OPSETS = {"dynamo": range(18, 24), "torchscript": range(9, 18)}
DEFAULT_OPSET = {"dynamo": 20, "torchscript": 17}


def check_opset(exporter: str, opset: int) -> None:
    ok = OPSETS[exporter]
    if opset not in ok:
        raise UserError(f"--opset {opset}: the {exporter} exporter writes opsets {ok.start} to {ok.stop - 1}")


def export(model_name: str, weights: str, out: str | Path, exporter: str = "dynamo", opset: int | None = None,
           size: int = 224) -> dict:
    """Export ``model_name`` with ``weights`` to ``out``; return a record of what was done."""
    import torch

    opset = DEFAULT_OPSET[exporter] if opset is None else opset
    check_opset(exporter, opset)
    model, spec = models.build(model_name, weights)
    example = torch.randn(2, 3, size, size)
    t0 = time.perf_counter()
    onnx_model = _to_onnx(model, example, exporter, opset)
    written = next(o.version for o in onnx_model.opset_import if o.domain in ("", "ai.onnx"))
    if written != opset:
        raise UserError(f"the {exporter} exporter wrote opset {written} instead of {opset}; choose another --opset")
    inputs = export_inputs(spec, exporter, opset, size)
    onnx_tools.set_metadata(onnx_model, {**spec.to_metadata(), "demo.stage": "export"})
    workdir.stamp(onnx_model, None, inputs)
    onnx_tools.save(onnx_model, out)
    seconds = time.perf_counter() - t0

    check = verify(model, out, size)
    return {"model": spec.name, "weights": spec.weights_label, "real_weights": spec.real_weights,
            "exporter": exporter, "opset": written, "file": str(out), "bytes": Path(out).stat().st_size,
            "file_sha256": files.sha256_file(out), "export_seconds": round(seconds, 2), "check": check,
            "notes": spec.notes, "inputs": inputs}


def export_inputs(spec, exporter: str, opset: int, size: int) -> dict:
    """What an exported file is made from: the model, its weights (with their hash), the exporter and opset."""
    import torch

    return {"model": spec.name, "weights": spec.weights, "weights_sha256": spec.weights_sha256,
            "exporter": exporter, "opset": opset, "input_size": size, "torch": torch.__version__}


def _to_onnx(model, example, exporter: str, opset: int):
    import torch

    kwargs = dict(input_names=[INPUT], output_names=[OUTPUT])
    if exporter == "dynamo":
        batch = torch.export.Dim("batch", min=1, max=4096)
        program = torch.onnx.export(model, (example,), dynamo=True, external_data=False, opset_version=opset,
                                    dynamic_shapes=({0: batch},), verbose=False, **kwargs)
        return program.model_proto
    if exporter == "torchscript":
        # The TorchScript exporter: still needed for fake-quant models (see the qat stage).
        import io

        buf = io.BytesIO()
        torch.onnx.export(model, (example,), buf, dynamo=False, opset_version=opset,
                          dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}}, **kwargs)
        import onnx

        return onnx.load_from_string(buf.getvalue())
    raise UserError(f"unknown exporter {exporter!r}; choose dynamo or torchscript")


def verify(model, path: str | Path, size: int = 224) -> dict:
    """Compare ONNX Runtime with PyTorch at two batch sizes; raise if they disagree."""
    import torch

    sess = onnx_tools.session(path)
    result = {}
    for batch in (1, 3):
        x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(batch))
        with torch.inference_mode():
            ref = model(x).numpy()
        got = onnx_tools.run(sess, x.numpy())
        rel = float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-12))
        result[f"batch{batch}_rel_l2"] = rel
        if got.shape != ref.shape or rel > 1e-4:
            raise RuntimeError(f"ONNX export disagrees with PyTorch at batch {batch}: relative L2 {rel:.2e}")
    return result


def add_arguments(p) -> None:
    p.add_argument("--model", default="resnet50", choices=models.MODELS)
    p.add_argument("--weights", default=None,
                   help="imagenet | pretrained (efficientnet_lite0) | PATH to a state dict | random "
                        "(pipeline check only). Default: imagenet for resnet50, pretrained for efficientnet_lite0")
    p.add_argument("--exporter", default="dynamo", choices=("dynamo", "torchscript"))
    p.add_argument("--opset", type=int, default=None,
                   help=f"ONNX opset (default {DEFAULT_OPSET['dynamo']} for dynamo, {DEFAULT_OPSET['torchscript']} for "
                        f"torchscript; dynamo writes {OPSETS['dynamo'].start}-{OPSETS['dynamo'].stop - 1}, torchscript "
                        f"{OPSETS['torchscript'].start}-{OPSETS['torchscript'].stop - 1})")
    p.add_argument("--out", type=Path, help="output ONNX (default WORKDIR/fp32.onnx)")


def check_arguments(args) -> None:
    if args.opset is not None:
        check_opset(args.exporter, args.opset)
    if args.out is not None and args.out.is_dir():
        raise UserError(f"--out {args.out} is a folder; give the ONNX file name to write")


def run(args) -> dict:
    wd = Workdir(args.workdir)
    weights = args.weights or ("imagenet" if args.model == "resnet50" else "pretrained")
    out = args.out or wd.path("fp32.onnx")
    wd.forget("export", "fp32")
    rec = export(args.model, weights, out, args.exporter, args.opset)
    if not rec["real_weights"]:
        print(f"NOTE: {args.model} with random weights: for pipeline checks only, accuracy will not be reported")
    print(f"exported {rec['model']} ({rec['weights']}) -> {out} ({rec['bytes'] / 1e6:.1f} MB); "
          f"ONNX Runtime matches PyTorch (relative L2 {max(rec['check'].values()):.1e})")
    wd.record("export", "fp32", rec, inputs=rec.pop("inputs"), fp32_sha256=rec["file_sha256"])
    return rec
