"""Calibration on the ONNX model: stream activations through ONNX Runtime into histograms, then amax.

One pass over the calibration images fills a :class:`demos.quant.HistogramCollector` per activation
tensor of the FP32 model (bounded memory: only the histograms are kept). Every calibrator then turns a
histogram into an amax; a calibrator is any function ``HistogramCollector -> float``, so new methods plug in
without touching the pipeline (see :data:`CALIBRATORS`).

The collected histograms are cached as a NumPy file keyed by the SHA-256 of the ONNX file, the hash of the
calibration images (paths, labels, bytes), the tensor list, the histogram settings and the library
versions; a cache for other inputs is ignored, a corrupt one is reported.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata as md
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from demos import files, onnx_tools
from demos.errors import UserError

NUM_BINS = 2048
Calibrator = Callable[["object"], float]  # HistogramCollector -> amax


def _quant_lib():
    import demos.quant as q

    return q


def calibrators(percentile: float = 99.99) -> dict[str, Calibrator]:
    """The four methods of the tutorial, as pluggable ``collector -> amax`` functions."""
    q = _quant_lib()
    return {
        "max": functools.partial(q.calibrate, method="max"),
        "percentile": functools.partial(q.calibrate, method="percentile", percentile=percentile),
        "entropy": functools.partial(q.calibrate, method="entropy"),
        "mse": functools.partial(q.calibrate, method="mse"),
    }


METHODS = ("max", "entropy", "percentile", "mse")


@dataclass
class Collection:
    collectors: dict  # tensor name -> HistogramCollector
    minimum: dict[str, float]  # tensor name -> smallest value seen (tells non-negative tensors apart)
    images: int
    cached: bool = False

    def amax(self, calibrator: Calibrator, names: Iterable[str] | None = None) -> dict[str, float]:
        """amax per tensor; tensors that were all zero are left out (they cannot be calibrated)."""
        out = {}
        for name in (names if names is not None else self.collectors):
            c = self.collectors[name]
            if c.amax > 0:
                out[name] = float(calibrator(c))
        return out


def activation_tensors(model) -> list[str]:
    """Names of all float activation tensors: the graph input and every float node output."""
    import onnx
    from onnx import shape_inference

    inferred = shape_inference.infer_shapes(model)
    types = {vi.name: vi.type.tensor_type.elem_type
             for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)}
    inits = {i.name for i in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in inits]
    for node in model.graph.node:
        if node.op_type in ("Constant", "Shape"):
            continue
        for out in node.output:
            if out and types.get(out) == onnx.TensorProto.FLOAT:
                names.append(out)
    return list(dict.fromkeys(names))


def _quant_source_hash() -> str:
    """Hash of the calibration library's source: a change of the histogram code invalidates caches."""
    h = hashlib.sha256()
    q = Path(_quant_lib().__file__).parent
    for name in ("histogram.py", "_arrays.py"):
        p = q / name
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def cache_key(onnx_path, data_hash: str, tensors: list[str], batch_size: int) -> dict:
    return {"onnx_sha256": files.sha256_file(onnx_path), "data_sha256": data_hash,
            "tensors_sha256": hashlib.sha256("\n".join(tensors).encode()).hexdigest(),
            "num_bins": NUM_BINS, "batch_size": batch_size, "quant_source": _quant_source_hash(),
            "versions": {lib: md.version(lib) for lib in ("onnxruntime", "onnx", "numpy")}}


def collect(onnx_path, batches: Callable[[], Iterable[np.ndarray]], tensors: list[str] | None = None,
            cache: Path | None = None, data_hash: str | None = None, batch_size: int = 0,
            total: int | None = None) -> Collection:
    """Histograms of ``tensors`` (default: all activations) over the images ``batches()`` yields.

    With ``cache`` and ``data_hash``, a cache computed for exactly these inputs is reused.
    """
    import onnx
    from tqdm.auto import tqdm

    q = _quant_lib()
    model = onnx_tools.load(onnx_path)
    tensors = tensors or activation_tensors(model)
    key = cache_key(onnx_path, data_hash, tensors, batch_size) if cache is not None and data_hash else None
    if key is not None:
        hit = files.load_cache(cache, key)
        if hit is not None:
            arrays, values = hit
            cols = {}
            for i, name in enumerate(values["tensors"]):
                state = dict(values["states"][i], counts=arrays["counts"][i], num_bins=NUM_BINS)
                try:
                    cols[name] = q.HistogramCollector.from_state_dict(state)
                except q.QuantInputError as exc:
                    raise UserError(f"calibration cache {cache} is inconsistent ({exc}); delete it and rerun") from None
            return Collection(cols, dict(zip(values["tensors"], values["minimum"])), values["images"], cached=True)

    # Expose every wanted tensor as a graph output, then run the FP32 model once per batch.
    existing = {o.name for o in model.graph.output}
    for name in tensors:
        if name not in existing:
            model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep every tensor as named
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    input_name = onnx_tools.input_name(model)
    cols = {name: q.HistogramCollector(NUM_BINS) for name in tensors}
    minimum = {name: np.inf for name in tensors}
    images = 0
    with tqdm(total=total, desc="calibration", unit="img", leave=False) as bar:
        for x in batches():
            outs = sess.run(tensors, {input_name: x})
            for name, value in zip(tensors, outs):
                cols[name].update(value)
                minimum[name] = min(minimum[name], float(value.min()))
            images += len(x)
            bar.update(len(x))
    if images == 0:
        raise UserError("no calibration images could be read; check --data")
    result = Collection(cols, minimum, images)
    if key is not None:
        states = [{k: v for k, v in c.state_dict().items() if k not in ("counts", "num_bins")} for c in cols.values()]
        files.save_cache(cache, key, {"counts": np.stack([c.counts for c in cols.values()])},
                         {"tensors": tensors, "states": states, "minimum": [minimum[t] for t in tensors],
                          "images": images})
    return result
