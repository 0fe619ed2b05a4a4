"""Command line: ``python -m demos.resnet50 [--workdir DIR] STAGE [options]``.

A user mistake (missing file, wrong folder, a value out of range, missing runtime) ends with a one-line
``error: ...`` and a non-zero exit status; it never shows a traceback. Each stage holds its ``--workdir``
for as long as it runs (:meth:`demos.resnet50.workdir.Workdir.session`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from demos.errors import UserError, run_cli
from demos.resnet50.common import OneLineParser
from demos.resnet50.workdir import Workdir

# stage -> (module, one-line help). Modules are imported only when their stage runs, so that `bench` on a
# GPU machine with nothing but PyTorch does not need ONNX, ModelOpt or TensorRT.
STAGES = {
    "export": ("export", "PyTorch model -> FP32 ONNX with a dynamic batch axis"),
    "fp16": ("fp16", "strongly typed FP16 ONNX via ModelOpt AutoCast (FP32 inputs/outputs)"),
    "ptq": ("ptq", "INT8 Q/DQ ONNX per calibrator (+ CPU INT8 forms, TensorRT 10 calibration cache)"),
    "qat": ("qat", "quantization-aware fine-tune with ModelOpt, export to Q/DQ ONNX"),
    "build": ("build", "TensorRT 11 / TensorRT 10 / TensorRT-RTX engines from the ONNX files"),
    "eval": ("evaluate", "top-1/top-5, agreement with FP32 and logit error per model and backend"),
    "bench": ("bench", "latency and throughput: ONNX Runtime CPU, PyTorch GPU, TensorRT"),
    "report": ("report", "JSON + Markdown table + plot of every result, with provenance"),
}


def parser(stage: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser; only ``stage``'s module is imported (for its options)."""
    p = OneLineParser(prog="python -m demos.resnet50", description=__doc__.splitlines()[0])
    p.add_argument("--workdir", type=Path, default=Path("build/demo"),
                   help="folder for this model's files and results (one model per folder; default build/demo)")
    sub = p.add_subparsers(dest="stage", required=True, metavar="STAGE")
    for name, (module, help_) in STAGES.items():
        sp = sub.add_parser(name, help=help_, description=help_)
        if name == stage:
            _module(module).add_arguments(sp)
    return p


def _stage_of(argv: list[str]) -> str | None:
    skip = False
    for tok in argv:
        if skip:
            skip = False
        elif tok == "--workdir":
            skip = True
        elif tok in STAGES:
            return tok
    return None


def _module(name: str):
    return importlib.import_module(f"demos.resnet50.{name}")


MIB = 2**20


def space_needed(stage: str, args) -> int:
    """About how many bytes ``stage`` writes into the workdir (checked before any slow work)."""
    if stage == "export":
        return 256 * MIB  # ResNet50: 100 MB, written beside its temporary copy
    src = Path(getattr(args, "onnx", None) or Path(args.workdir) / "fp32.onnx")
    size = src.stat().st_size if src.is_file() else 100 * MIB
    # ONNX files of about the FP32 model's size each (and a temporary copy of the largest while it is written)
    copies = {"fp16": 1, "qat": 2, "build": 3, "ptq": len(getattr(args, "methods", None) or [1] * 4) + 2}
    return copies.get(stage, 0) * size + 16 * MIB


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = parser(_stage_of(argv))
    try:
        args = p.parse_args(argv)
    except UserError as exc:  # a bad option: one line, as every other user error
        return run_cli(_raise, exc)
    module = _module(STAGES[args.stage][0])

    def stage() -> None:
        if hasattr(module, "check_arguments"):
            module.check_arguments(args)  # refuse bad values before the folder is touched
        with Workdir(args.workdir).session(args.stage, space_needed(args.stage, args)):
            module.run(args)

    return run_cli(stage)


def _raise(exc: Exception) -> None:
    raise exc


if __name__ == "__main__":
    sys.exit(main())
