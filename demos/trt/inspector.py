"""Per-layer report from TensorRT's engine inspector: which precision each fused layer runs in.

Needs an engine built with ``ProfilingVerbosity.DETAILED`` (the build stage sets it) and a runtime that can
load the engine, i.e. TensorRT and a supported GPU; TensorRT-RTX plans built on a CPU-only machine cannot be
inspected there. :func:`network_precisions` reads the types of the parsed network instead, which needs no GPU:
in a strongly typed network they are the types the engine must keep.
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


_NETWORK_DTYPES = {"FLOAT": "FP32", "HALF": "FP16", "BF16": "BF16", "INT8": "INT8", "FP8": "FP8", "INT32": "INT32",
                   "INT64": "INT64", "BOOL": "BOOL"}


def network_precisions(network) -> dict:
    """Output data type of every layer of a parsed (strongly typed) network: counts, and the layers that
    compute in FP32 (casts, shape and constant layers left out)."""
    counts = collections.Counter()
    fp32_layers = []
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        kind = str(layer.type).split(".")[-1]
        if layer.num_outputs == 0 or kind in ("CAST", "CONSTANT", "SHAPE", "IDENTITY"):
            continue
        name = str(layer.get_output(0).dtype).split(".")[-1]  # DataType.HALF -> HALF
        dtype = _NETWORK_DTYPES.get(name, name)
        counts[dtype] += 1
        if dtype == "FP32":
            fp32_layers.append(f"{layer.name} ({kind})")
    return {"precision_counts": dict(counts), "fp32_layers": fp32_layers}
