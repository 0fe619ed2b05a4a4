"""Where ONNX Runtime spends a batch: kernel time per kind of operator, from ONNX Runtime's own profiler.

The ``bench`` stage records this next to each throughput figure. It explains a speed-up, or its absence: an
INT8 form is only as fast as its slowest remaining part, and on a CPU the depthwise convolutions of a
MobileNet-style model gain far less from INT8 than the dense ones (few multiply-adds per byte read, and no
dot-product instruction that a 3x3 window per channel can fill).

The profiled session is a second session, separate from the timed one, because profiling adds a little
overhead to every node. Nodes are classified on the graph ONNX Runtime actually runs (after its graph
optimizations, which fuse and rename nodes), read back from ``optimized_model_filepath``.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

CONV_OPS = {"Conv", "FusedConv", "NchwcConv", "QLinearConv", "ConvInteger"}
QDQ_OPS = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"}
# Kinds in the order a figure stacks them.
KINDS = ("dense convolution", "depthwise convolution", "quantize / dequantize", "Clip", "other")


def node_kinds(model_path: Path) -> dict[str, str]:
    """Kind of each node of an optimized ONNX graph, by node name."""
    import onnx

    kinds = {}
    for node in onnx.load(str(model_path), load_external_data=False).graph.node:
        if node.op_type in CONV_OPS:
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            kinds[node.name] = "depthwise convolution" if group > 1 else "dense convolution"
        elif node.op_type in QDQ_OPS:
            kinds[node.name] = "quantize / dequantize"
        elif node.op_type == "Clip":
            kinds[node.name] = "Clip"
        else:
            kinds[node.name] = "other"
    return kinds


def kernel_times(trace: list[dict]) -> dict[str, float]:
    """Total kernel time in microseconds per node name, from an ONNX Runtime profiling trace."""
    times: Counter = Counter()
    for event in trace:
        name = event.get("name", "")
        if event.get("cat") == "Node" and name.endswith("_kernel_time"):
            times[name[:-len("_kernel_time")]] += event["dur"]
    return dict(times)


def profile(path: Path, batch: int, threads: int, runs: int = 5, optimization: str = "all") -> dict:
    """Kernel milliseconds per batch, per operator kind and per ONNX Runtime operator type: the mean over
    ``runs`` batches after one warm-up batch. Kernel time leaves out what happens between kernels, so the
    sum is a little below the latency the timed session measures."""
    import onnx
    import onnxruntime as ort

    level = {"all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
             "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC}[optimization]
    with tempfile.TemporaryDirectory(prefix="ort_profile_") as tmp:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        opts.graph_optimization_level = level
        opts.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        opts.log_severity_level = 3  # the NCHWc serialization warning is about reusing the file elsewhere
        ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        kinds = node_kinds(Path(tmp) / "optimized.onnx")

        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        opts.graph_optimization_level = level
        opts.enable_profiling = True
        opts.profile_file_prefix = str(Path(tmp) / "trace")
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        shape = [d.dim_value for d in onnx.load(str(path), load_external_data=False)
                 .graph.input[0].type.tensor_type.shape.dim[1:]]
        x = np.random.default_rng(0).standard_normal((batch, *shape)).astype(np.float32)
        for _ in range(1 + runs):  # the first run is a warm-up: its events are dropped below
            sess.run(None, {inp.name: x})
        trace = json.loads(Path(sess.end_profiling()).read_text(encoding="utf-8"))
    run_starts = sorted(e["ts"] for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run")
    if len(run_starts) != 1 + runs:
        raise RuntimeError(f"ONNX Runtime's trace has {len(run_starts)} model runs, {1 + runs} expected")
    trace = [e for e in trace if e.get("ts", 0) >= run_starts[1]]
    by_node = kernel_times(trace)
    by_kind: Counter = Counter()
    by_op: Counter = Counter()
    op_of = {e["name"][:-len("_kernel_time")]: e["args"].get("op_name", "?") for e in trace
             if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time")}
    for node, us in by_node.items():
        by_kind[kinds.get(node, "other")] += us / runs / 1e3
        by_op[op_of[node]] += us / runs / 1e3
    return {"batch": batch, "threads": threads, "runs": runs, "ort_graph_optimization": optimization,
            "kernel_ms_per_batch": {k: round(by_kind.get(k, 0.0), 3) for k in KINDS},
            "kernel_ms_per_batch_by_op": {k: round(v, 3) for k, v in by_op.most_common()},
            "unclassified_nodes": sorted(n for n in by_node if n not in kinds)}
