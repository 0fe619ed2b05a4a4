"""Per-layer precision reports: from a built engine (the truth), or from a parsed network (a preview).

:func:`report` reads TensorRT's engine inspector: which precision each fused layer of the built engine runs
in.  It needs an engine built with ``ProfilingVerbosity.DETAILED`` (the build stage sets it) and a runtime
that can load the engine, i.e. TensorRT and a supported GPU; TensorRT-RTX plans built on a CPU-only machine
cannot be inspected there.

:func:`network_precisions` needs no GPU: it reads the output types of the parsed network's layers, *before*
TensorRT fuses them.  In a strongly typed network these are the types the engine must produce, with one
exception: a layer fed by a DequantizeLinear (DQ -> Conv) still has an FP32 output in the parsed network,
but TensorRT fuses the DQ into it and runs it on INT8 inputs.  Such layers are counted apart
(``dq_fed_layers``), not as FP32.
"""

from __future__ import annotations

import collections
import json
import re


def report(trt, engine, context=None) -> dict:
    inspector = engine.create_engine_inspector()
    if context is not None:
        inspector.execution_context = context  # shapes of the current profile, for dynamic-shape engines
    info = json.loads(inspector.get_engine_information(trt.LayerInformationFormat.JSON))
    return layer_summary(info)


def layer_summary(info: dict) -> dict:
    """Layers, their output format and a count per precision, from the inspector's JSON."""
    layers = []
    precisions = collections.Counter()
    for layer in info.get("Layers", []):
        if isinstance(layer, str):  # only names: the engine was built without DETAILED verbosity
            layers.append({"name": layer})
            continue
        outputs = layer.get("Outputs", [])
        fmt = tensor_format(outputs[0]) if outputs else "?"
        precisions[dtype_of(fmt)] += 1
        layers.append({"name": layer.get("Name"), "type": layer.get("LayerType"), "output": fmt,
                       "tactic": layer.get("TacticName") or layer.get("TacticValue")})
    return {"layers": layers, "precision_counts": dict(precisions), "num_layers": len(layers)}


def tensor_format(tensor: dict) -> str:
    """The format text of one inspector tensor: TensorRT 10 has ``Format/Datatype``, TensorRT 11 splits it
    into ``Datatype`` and ``Format``."""
    if "Format/Datatype" in tensor:
        return str(tensor["Format/Datatype"])
    return " ".join(str(tensor[k]) for k in ("Datatype", "Format") if tensor.get(k)) or "?"


# Tokens of the format text -> precision, most specific first.  The classic layers say "Row major linear
# FP32 format" or "Channel major FP16 format where C % 8 == 0", Myelin layers "Half" or "Float", TensorRT 11
# "Datatype": "FP16"; as Polygraphy's inspector does, the data type is read from these words.
_TOKENS = (
    ("BF16", ("BF16", "BFLOAT16")),
    ("FP8", ("FP8", "FLOAT8", "FLOAT8E4M3", "E4M3", "FLOAT8E5M2", "E5M2")),
    ("FP4", ("FP4", "FLOAT4", "E2M1", "NVFP4")),
    ("UINT8", ("UINT8",)),
    ("INT64", ("INT64",)),
    ("INT32", ("INT32",)),
    ("INT8", ("INT8",)),
    ("INT4", ("INT4",)),
    ("FP16", ("FP16", "HALF")),
    ("FP32", ("FP32", "FLOAT", "FLOAT32")),
    ("BOOL", ("BOOL",)),
)


def dtype_of(fmt: str) -> str:
    """"FP32", "FP16", "INT8", ... for a format text; the text itself if no data type word is in it."""
    words = set(re.findall(r"[A-Z0-9]+", fmt.upper()))
    for name, tokens in _TOKENS:
        if words.intersection(tokens):
            return name
    return fmt


_NETWORK_DTYPES = {"FLOAT": "FP32", "HALF": "FP16", "BF16": "BF16", "INT8": "INT8", "FP8": "FP8", "INT32": "INT32",
                   "INT64": "INT64", "BOOL": "BOOL", "UINT8": "UINT8", "INT4": "INT4", "FP4": "FP4"}
# Layers that move, reshape or convert data rather than compute: left out of the counts.
_NOT_COMPUTE = ("CAST", "CONSTANT", "SHAPE", "IDENTITY", "QUANTIZE", "DEQUANTIZE", "DYNAMIC_QUANTIZE")


def network_precisions(network) -> dict:
    """Output data types of a parsed (strongly typed) network's compute layers, before fusion.

    ``precision_counts`` counts the layers by output type and ``fp32_layers`` names the FP32 ones, leaving
    out casts, shape and constant layers, the Q/DQ layers themselves, and the layers fed by a
    DequantizeLinear: those TensorRT fuses with the DQ into a quantized kernel, so their FP32 output type
    here says nothing about their precision (``dq_fed_layers`` counts them).  The built engine's layer
    report (:func:`report`) is the authority.
    """
    producers = {}
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        for j in range(layer.num_outputs):
            producers[layer.get_output(j).name] = _kind(layer)
    counts = collections.Counter()
    fp32_layers, dq_fed = [], []
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        kind = _kind(layer)
        if layer.num_outputs == 0 or kind in _NOT_COMPUTE:
            continue
        inputs = [layer.get_input(j) for j in range(layer.num_inputs)]
        if any(t is not None and producers.get(t.name) == "DEQUANTIZE" for t in inputs):
            dq_fed.append(f"{layer.name} ({kind})")
            continue
        name = str(layer.get_output(0).dtype).split(".")[-1]  # DataType.HALF -> HALF
        dtype = _NETWORK_DTYPES.get(name, name)
        counts[dtype] += 1
        if dtype == "FP32":
            fp32_layers.append(f"{layer.name} ({kind})")
    return {"basis": "output types of the parsed network's layers, before fusion; DQ-fed layers counted apart",
            "precision_counts": dict(counts), "fp32_layers": fp32_layers,
            "dq_fed_layers": len(dq_fed), "dq_fed": dq_fed}


def _kind(layer) -> str:
    return str(layer.type).split(".")[-1]
