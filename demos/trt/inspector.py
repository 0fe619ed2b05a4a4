"""Per-layer report from TensorRT's engine inspector: which precision each fused layer runs in.

Needs an engine built with ``ProfilingVerbosity.DETAILED`` (the build stage sets it) and a runtime that can
load the engine, i.e. TensorRT and a supported GPU; TensorRT-RTX plans built on a CPU-only machine cannot be
inspected there.
"""

from __future__ import annotations

import collections
import json


def report(trt, engine, context=None) -> dict:
    inspector = engine.create_engine_inspector()
    if context is not None:
        inspector.execution_context = context  # shapes of the current profile, for dynamic-shape engines
    info = json.loads(inspector.get_engine_information(trt.LayerInformationFormat.JSON))
    layers = []
    precisions = collections.Counter()
    for layer in info.get("Layers", []):
        if isinstance(layer, str):  # only names: the engine was built without DETAILED verbosity
            layers.append({"name": layer})
            continue
        outputs = layer.get("Outputs", [])
        fmt = outputs[0].get("Format/Datatype", "?") if outputs else "?"
        precisions[_dtype(fmt)] += 1
        layers.append({"name": layer.get("Name"), "type": layer.get("LayerType"), "output": fmt,
                       "tactic": layer.get("TacticName") or layer.get("TacticValue")})
    return {"layers": layers, "precision_counts": dict(precisions), "num_layers": len(layers)}


def _dtype(fmt: str) -> str:
    for key in ("Int8", "FP8", "Half", "BFloat16", "Float", "Int32", "Int64", "Bool"):
        if key.lower() in fmt.lower():
            return {"Half": "FP16", "Float": "FP32", "BFloat16": "BF16"}.get(key, key.upper())
    return fmt
