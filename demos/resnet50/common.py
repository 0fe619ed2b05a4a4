"""Argument groups, value checks and small helpers that several stages share."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from demos import data
from demos.errors import UserError


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one ``error:`` line (a :class:`UserError`), like every other
    user error of the demo, instead of argparse's usage block."""

    def error(self, message: str):
        raise UserError(f"{self.prog}: {message} (see --help)")


# --- Numbers the options accept (argparse ``type=``) ------------------------------------------------------

def _number(kind, text: str, what: str, ok) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
    return value


def positive_int(text: str) -> int:
    return _number(int, text, "positive", lambda v: v > 0)


def nonnegative_int(text: str) -> int:
    return _number(int, text, "0 or more", lambda v: v >= 0)


def positive_float(text: str) -> float:
    return _number(float, text, "positive", lambda v: v > 0)


def nonnegative_float(text: str) -> float:
    return _number(float, text, "0 or more", lambda v: v >= 0)


def percentile(text: str) -> float:
    return _number(float, text, "a percentile in (0, 100]", lambda v: 0 < v <= 100)


# --- Data ------------------------------------------------------------------------------------------------

def add_data_arguments(p, calib: bool = False, evaluation: bool = False, calib_default: int = 128) -> None:
    p.add_argument("--data", type=Path, default=data.SAMPLES,
                   help="labelled image folder: labels.csv layout or ImageNet val/ layout "
                        f"(default {data.SAMPLES})")
    if calib:
        p.add_argument("--calib-count", type=positive_int, default=None,
                       help=f"calibration images: the first N of the calibration pool (default {calib_default}, "
                            "or the whole pool if it is smaller)")
        p.set_defaults(calib_default=calib_default)
    if evaluation:
        p.add_argument("--eval-count", type=positive_int, default=None,
                       help="evaluation images (the first N of the evaluation pool; default all)")


def calibration_items(args) -> list[data.Item]:
    items = data.discover(args.data)
    if args.calib_count is None:
        pool = data.split(items, "calibration")
        return pool[:getattr(args, "calib_default", 128)]
    return data.split(items, "calibration", args.calib_count, strict=True)


def evaluation_items(args) -> list[data.Item]:
    return data.split(data.discover(args.data), "evaluation", args.eval_count, strict=args.eval_count is not None)


def check_out(args, attr: str = "out") -> None:
    """Refuse an output path that is a folder, before any slow work."""
    value = getattr(args, attr, None)
    if value is not None and Path(value).is_dir():
        raise UserError(f"--{attr} {value} is a folder; give the file name to write")


def library_versions() -> dict[str, str | None]:
    """Versions of the libraries whose code decides what a stage writes (part of every inputs key)."""
    import importlib.metadata as md

    out = {}
    for lib in ("torch", "onnx", "onnxruntime", "nvidia-modelopt", "numpy"):
        try:
            out[lib] = md.version(lib)
        except md.PackageNotFoundError:
            out[lib] = None
    return out


def onnx_arg(args, attr: str, wd, default: str) -> Path:
    value = getattr(args, attr, None)
    return Path(value) if value else wd.path(default)


# --- Models -----------------------------------------------------------------------------------------------

def check_image_input(model, spec, path) -> None:
    """Refuse a model whose image input cannot take the images its own preprocessing makes."""
    from demos import onnx_tools

    name = onnx_tools.input_name(model)
    inp = next(i for i in model.graph.input if i.name == name)
    dims = [d.dim_value if d.HasField("dim_value") else None for d in inp.type.tensor_type.shape.dim]
    want = [None, 3, spec.preprocess.size, spec.preprocess.size]
    if len(dims) != 4 or any(d is not None and d != w for d, w in zip(dims[1:], want[1:])):
        shown = "x".join("?" if d is None else str(d) for d in dims) or "a scalar"
        raise UserError(f"{path} takes {shown} inputs, but its preprocessing makes batches of 3x{spec.preprocess.size}x"
                        f"{spec.preprocess.size} images; export the model with that input size")
