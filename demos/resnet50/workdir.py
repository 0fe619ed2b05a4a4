"""The demo's working folder: where each stage puts its files, and the result records it writes.

One model per folder. Layout (``--workdir``, default ``build/demo``)::

    fp32.onnx  fp16.onnx  int8_<calibrator>.onnx  int8_qat.onnx  cpu_int8_*.onnx
    engines/<onnx stem>.<backend>.plan  engines/timing.cache
    cache/     calibration caches (NumPy/JSON, keyed by model hash + data hash + versions)
    results/   one JSON record per stage run (with provenance); the report reads them all
    report.json  report.md  report.png
"""

from __future__ import annotations

import os
from pathlib import Path

from demos import files, provenance


class Workdir:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def engines(self) -> Path:
        return self.root / "engines"

    def record(self, stage: str, name: str, payload: dict, gpu: bool = False) -> Path:
        """Write ``results/<stage>_<name>.json`` with the payload and its provenance."""
        body = {"stage": stage, "name": name, **payload, "provenance": provenance.collect(gpu=gpu)}
        return files.write_json(self.results / f"{stage}_{name}.json", body)


DEFAULT_ROOT = Path("build") / "demo"
