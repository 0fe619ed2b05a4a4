"""Shared fixtures: each pipeline runs once per test session, in a temporary workdir.

* ``eff``: EfficientNet-Lite0 with its real ImageNet weights, every stage, small image counts.
* ``r50``: ResNet50 with random weights (pipeline check), every stage at the smallest sizes.

Stages are called in-process through the CLI's ``main`` (the same code path as the command line, without
re-importing PyTorch for every stage); ``test_cli.py`` also runs the real command line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from demos import data
from demos.resnet50.__main__ import main

SAMPLES = data.SAMPLES
EVAL_COUNT = 200
CALIB_COUNT = 32


def _require_samples():
    if not (SAMPLES / "labels.csv").is_file():
        pytest.skip(f"sample images not found at {SAMPLES}")


@dataclass
class Pipeline:
    root: Path
    outputs: dict

    def run(self, *argv: str) -> int:
        return main(["--workdir", str(self.root), *argv])

    def result(self, name: str) -> dict:
        return json.loads((self.root / "results" / f"{name}.json").read_text())

    def path(self, name: str) -> Path:
        return self.root / name


def _run(p: Pipeline, *argv: str) -> None:
    code = p.run(*argv)
    assert code == 0, f"stage {argv[0]} failed with exit code {code}"


@pytest.fixture(scope="session")
def eff(tmp_path_factory) -> Pipeline:
    _require_samples()
    p = Pipeline(tmp_path_factory.mktemp("eff"), {})
    _run(p, "export", "--model", "efficientnet_lite0")  # dynamo exporter (default)
    _run(p, "fp16", "--calib-count", "8")
    _run(p, "ptq", "--calib-count", str(CALIB_COUNT))
    _run(p, "qat", "--calib-count", str(CALIB_COUNT), "--epochs", "1", "--batch", "16")
    _run(p, "eval", "--eval-count", str(EVAL_COUNT))
    _run(p, "build")  # TensorRT-RTX here (no TensorRT on CI)
    _run(p, "bench", "--backend", "ort", "--iterations", "2", "--repeats", "2", "--warmup", "1",
         "--models", "fp32", "cpu_int8_trt_scales", "cpu_int8_best")
    _run(p, "report")
    return p


@pytest.fixture(scope="session")
def r50(tmp_path_factory) -> Pipeline:
    _require_samples()
    p = Pipeline(tmp_path_factory.mktemp("r50"), {})
    _run(p, "export", "--model", "resnet50", "--weights", "random", "--exporter", "torchscript")
    _run(p, "fp16", "--calib-count", "4")
    _run(p, "ptq", "--calib-count", "16", "--methods", "max")  # several methods: the eff pipeline
    _run(p, "qat", "--calib-count", "8", "--epochs", "1", "--batch", "8")
    _run(p, "eval", "--eval-count", "16")
    _run(p, "build", "--max-batch", "16", "--opt-batch", "8")
    _run(p, "bench", "--backend", "ort", "--iterations", "1", "--repeats", "1", "--warmup", "0",
         "--models", "fp32", "cpu_int8_trt_scales")
    _run(p, "report")
    return p
