"""Command line: ``python -m demos.resnet50 [--workdir DIR] STAGE [options]``.

A user mistake (missing file, wrong folder, missing runtime) ends with a one-line ``error: ...`` and a
non-zero exit status; it never shows a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from demos.errors import run_cli

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
    p = argparse.ArgumentParser(prog="python -m demos.resnet50", description=__doc__.splitlines()[0])
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser(_stage_of(argv)).parse_args(argv)
    return run_cli(_module(STAGES[args.stage][0]).run, args)


if __name__ == "__main__":
    sys.exit(main())
