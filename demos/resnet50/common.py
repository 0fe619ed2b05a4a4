"""Argument groups and small helpers that several stages share."""

from __future__ import annotations

from pathlib import Path

from demos import data


def add_data_arguments(p, calib: bool = False, evaluation: bool = False) -> None:
    p.add_argument("--data", type=Path, default=data.SAMPLES,
                   help="labelled image folder: labels.csv layout or ImageNet val/ layout "
                        f"(default {data.SAMPLES})")
    if calib:
        p.add_argument("--calib-count", type=int, default=128,
                       help="calibration images (the first N of the calibration pool; default 128)")
    if evaluation:
        p.add_argument("--eval-count", type=int, default=None,
                       help="evaluation images (the first N of the evaluation pool; default all)")


def calibration_items(args) -> list[data.Item]:
    return data.split(data.discover(args.data), "calibration", args.calib_count)


def evaluation_items(args) -> list[data.Item]:
    return data.split(data.discover(args.data), "evaluation", args.eval_count)


def onnx_arg(args, attr: str, wd, default: str) -> Path:
    value = getattr(args, attr, None)
    return Path(value) if value else wd.path(default)
