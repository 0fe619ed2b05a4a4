"""Where a Q/DQ model quantizes, and what TensorRT can fuse from it: counted on the ONNX graph itself.

TensorRT builds a Q/DQ (explicitly quantized) network in three steps (NVIDIA, *Explicit Quantization*):
it *propagates* the Q/DQ nodes -- a DequantizeLinear moves forward and a QuantizeLinear backward through
layers that commute with quantization (ReLU, MaxPool, a Concat whose inputs share a scale) so that more of
the graph runs on INT8 data -- then *fuses* each DQ -> layer -> (activation) -> Q chain into one INT8
kernel, and finally times kernels for what is left. A layer runs in INT8 only where the model quantizes
both its input and its weights; its *output* is INT8 only where a QuantizeLinear follows (after the
activation, which the kernel applies); everything else stays in the precision the model gives it.

This module reads those facts from a Q/DQ ONNX file:

* :func:`activation_sources` -- which op produced each quantized activation (ReLU6, residual Add, ...);
* :func:`layers` -- for every Conv/Gemm: INT8 input and weights, the activation TensorRT fuses, and whether
  its (activated) output goes straight into a QuantizeLinear, i.e. leaves the kernel as INT8;
* :func:`residual_adds` -- for every residual Add: which inputs arrive through Q/DQ;
* :func:`int32_bias_overflow` -- per-channel biases that do not fit ``int32`` at scale ``s_x * s_w``
  (ONNX Runtime quantizes Conv biases that way when it optimizes a Q/DQ graph);
* :func:`draw_chain` -- one residual block drawn node by node, with the kernels TensorRT can form from it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

PASS_THROUGH = ("Cast", "Identity")
ACTIVATIONS = ("Clip", "Relu")
WEIGHTED = ("Conv", "Gemm", "MatMul", "ConvTranspose")


class _Index:
    def __init__(self, model):
        from onnx import numpy_helper

        g = model.graph
        self.model = model
        self.inits = {i.name: i for i in g.initializer}
        self.producer = {o: n for n in g.node for o in n.output}
        self.consumers: dict[str, list] = {}
        for n in g.node:
            for i in n.input:
                self.consumers.setdefault(i, []).append(n)
        self.graph_inputs = {i.name for i in g.input} - set(self.inits)
        self.graph_outputs = {o.name for o in g.output}
        self._np = numpy_helper

    def array(self, name):
        return self._np.to_array(self.inits[name]) if name in self.inits else None

    def source(self, tensor: str):
        """The node that computed ``tensor``, looking through Q/DQ and Cast/Identity (None: graph input)."""
        node = self.producer.get(tensor)
        while node is not None and node.op_type in ("QuantizeLinear", "DequantizeLinear", *PASS_THROUGH):
            node = self.producer.get(node.input[0])
        return node

    def kind(self, node) -> str:
        if node is None:
            return "model input"
        if node.op_type == "Clip":
            lo, hi = (self.array(i) for i in node.input[1:3]) if len(node.input) >= 3 else (None, None)
            if lo is not None and hi is not None and float(lo) == 0.0 and float(hi) == 6.0:
                return "ReLU6"
        return node.op_type

    def via_dq(self, tensor: str) -> bool:
        node = self.producer.get(tensor)
        return node is not None and node.op_type == "DequantizeLinear"


def activation_sources(model) -> Counter:
    """``Counter`` of what computed each quantized activation: ``ReLU6``, ``Add``, ``Conv``, ``model input``..."""
    ix = _Index(model)
    out = Counter()
    for n in model.graph.node:
        if n.op_type == "QuantizeLinear" and n.input[0] not in ix.inits:
            out[ix.kind(ix.source(n.input[0]))] += 1
    return out


@dataclass
class Layer:
    name: str  # the weight's name without ".weight", else the node name
    op: str
    int8_input: bool
    int8_weight: bool
    activation: str | None  # the activation TensorRT fuses into the kernel (ReLU6, Relu, Clip) or None
    output: str  # "INT8" (a QuantizeLinear follows), or what reads the float output: "Add", "ReduceMean", ...

    @property
    def int8(self) -> bool:
        return self.int8_input and self.int8_weight


def layers(model) -> list[Layer]:
    """Every Conv/Gemm/MatMul: what TensorRT can fuse around it, read from the Q/DQ graph."""
    ix = _Index(model)
    rows = []
    for n in model.graph.node:
        if n.op_type not in WEIGHTED or len(n.input) < 2:
            continue
        wq = ix.producer.get(n.input[1])
        weight = ix.producer.get(wq.input[0]) if wq is not None and wq.op_type == "DequantizeLinear" else None
        wname = (wq.input[0] if wq is not None and wq.op_type == "DequantizeLinear" else n.input[1])
        if weight is not None and weight.op_type == "QuantizeLinear":
            wname = weight.input[0]
        name = wname[: -len(".weight")] if wname.endswith(".weight") else n.name
        out, act = n.output[0], None
        users = ix.consumers.get(out, [])
        if len(users) == 1 and users[0].op_type in ACTIVATIONS:
            act = ix.kind(users[0])
            out = users[0].output[0]
            users = ix.consumers.get(out, [])
        if users and all(u.op_type == "QuantizeLinear" for u in users):
            output = "INT8"
        elif out in ix.graph_outputs:
            output = "model output"
        else:
            output = "/".join(sorted({u.op_type for u in users})) or "unused"
        rows.append(Layer(name, n.op_type, ix.via_dq(n.input[0]), ix.via_dq(n.input[1]), act, output))
    return rows


def residual_adds(model) -> list[dict]:
    """Every Add of two computed tensors: for each input, whether it arrives through Q/DQ and what made it."""
    ix = _Index(model)
    rows = []
    for n in model.graph.node:
        if n.op_type != "Add" or any(i in ix.inits for i in n.input):
            continue
        if any(ix.producer.get(i) is not None and ix.producer[i].op_type == "Constant" for i in n.input):
            continue
        rows.append({"name": n.name, "output": n.output[0],
                     "inputs": [{"tensor": i, "quantized": ix.via_dq(i), "from": ix.kind(ix.source(i))}
                                for i in n.input]})
    return rows


def op_counts(model) -> Counter:
    return Counter(n.op_type for n in model.graph.node)


def int32_bias_overflow(model) -> list[dict]:
    """Conv/Gemm layers whose float bias does not fit ``int32`` at scale ``s_x * s_w`` in some channels.

    ONNX Runtime's Q/DQ optimizations (``ORT_ENABLE_BASIC`` and above) replace such a bias by
    ``DequantizeLinear(int32 bias, s_x * s_w)``; a channel with a tiny weight scale (a nearly dead channel
    after BatchNorm folding) then saturates at +-2**31 steps and loses most of its bias.
    """
    ix = _Index(model)
    out = []
    for n in model.graph.node:
        if n.op_type not in ("Conv", "Gemm") or len(n.input) < 3 or n.input[2] not in ix.inits:
            continue
        xdq, wdq = ix.producer.get(n.input[0]), ix.producer.get(n.input[1])
        if xdq is None or wdq is None or xdq.op_type != "DequantizeLinear" or wdq.op_type != "DequantizeLinear":
            continue
        sx, sw = ix.array(xdq.input[1]), ix.array(wdq.input[1])
        bias = ix.array(n.input[2])
        if sx is None or sw is None or bias is None:
            continue
        steps = np.abs(bias.astype(np.float64)) / (float(np.asarray(sx).reshape(-1)[0]) * sw.astype(np.float64))
        bad = np.flatnonzero(steps > 2**31 - 1)
        if bad.size:
            w = wdq.input[0]
            wq = ix.producer.get(w)
            name = (wq.input[0] if wq is not None else w).removesuffix(".weight")
            out.append({"layer": name, "channels": bad.tolist(), "of": int(bias.size),
                        "max_steps": float(steps.max())})
    return out


# --- Drawing ----------------------------------------------------------------------------------------------

_COLORS = {"QuantizeLinear": "#d62728", "DequantizeLinear": "#ff9896", "Conv": "#1f77b4", "Gemm": "#1f77b4",
           "Clip": "#2ca02c", "Relu": "#2ca02c", "Add": "#9467bd"}


def chain_before(model, add_output: str) -> list:
    """The nodes of the residual block that ends in the Add producing ``add_output``, input to output: from
    the QuantizeLinear of the block input (the tensor the skip connection carries) to the Add and the
    QuantizeLinear after it."""
    ix = _Index(model)
    add = ix.producer[add_output]
    branch = next(i for i in add.input if ix.producer.get(i) is not None and ix.producer[i].op_type == "Conv")
    skip = next(i for i in add.input if i != branch)
    dq = ix.producer.get(skip)  # the skip may arrive through Q/DQ: start at the float tensor behind it
    if dq is not None and dq.op_type == "DequantizeLinear":
        q = ix.producer.get(dq.input[0])
        if q is not None and q.op_type == "QuantizeLinear":
            skip = q.input[0]
    nodes, t = [], branch
    while len(nodes) < 64:
        node = ix.producer.get(t)
        if node is None:
            break
        nodes.append(node)
        if node.op_type == "QuantizeLinear" and node.input[0] == skip:
            break
        t = node.input[0]  # follow the data input; weights hang off the side
    nodes.reverse()
    after = [u for u in ix.consumers.get(add_output, []) if u.op_type == "QuantizeLinear"]
    return nodes + [add] + after[:1]


def kernels(model, nodes) -> list[tuple[int, int, str]]:
    """Group a chain of nodes into the kernels TensorRT's fusion rules allow: ``(first, last, label)``.

    DQ -> Conv/Gemm [-> activation] is one INT8 kernel; an Add right after it joins the kernel when its other
    input (the skip connection) arrives through Q/DQ; a following Q makes the kernel's output INT8. A Q on
    its own quantizes a float tensor; an Add that cannot join runs on its own, in float.
    """
    ix = _Index(model)
    out, i = [], 0
    while i < len(nodes):
        op = nodes[i].op_type
        if op == "DequantizeLinear" and i + 1 < len(nodes) and nodes[i + 1].op_type in WEIGHTED:
            j, parts = i + 1, [nodes[i + 1].op_type]
            if j + 1 < len(nodes) and nodes[j + 1].op_type in ACTIVATIONS:
                j += 1
                parts.append(ix.kind(nodes[j]))
            elif j + 1 < len(nodes) and nodes[j + 1].op_type == "Add":
                other = [t for t in nodes[j + 1].input if t != nodes[j].output[0]]
                if other and all(ix.via_dq(t) for t in other):
                    j += 1
                    parts.append("Add")
            int8_out = j + 1 < len(nodes) and nodes[j + 1].op_type == "QuantizeLinear"
            j += int8_out
            out.append((i, j, f"INT8 {' + '.join(parts)}\n-> {'INT8' if int8_out else 'float'}"))
            i = j + 1
        elif op == "QuantizeLinear":
            made_by = ix.producer.get(nodes[i].input[0])
            fused = made_by is not None and made_by.op_type in (*WEIGHTED, "Add", *ACTIVATIONS)
            out.append((i, i, "end of the\nprevious kernel" if fused else "quantize"))
            i += 1
        elif op == "Add":
            out.append((i, i, "Add\n(float)"))
            i += 1
        else:
            out.append((i, i, op))
            i += 1
    return out


def draw_chain(ax, model, add_output: str) -> dict:
    """Draw one residual block: its ONNX nodes (top row) and the kernels TensorRT can fuse them into (bottom).

    The bottom row applies the fusion rules of :func:`kernels` to the graph: it is what the Q/DQ placement
    allows, not the result of a TensorRT build (which this machine cannot run). Returns what was drawn.
    """
    from matplotlib.patches import FancyBboxPatch

    ix = _Index(model)
    nodes = chain_before(model, add_output)
    step, w = 1.2, 1.0
    for i, n in enumerate(nodes):
        text = {"QuantizeLinear": "Q", "DequantizeLinear": "DQ"}.get(n.op_type, n.op_type)
        if n.op_type in ACTIVATIONS:
            text = ix.kind(n)
        elif n.op_type in WEIGHTED:
            wdq = ix.producer.get(n.input[1])
            wq = ix.producer.get(wdq.input[0]) if wdq is not None else None
            wname = wq.input[0] if wq is not None else n.input[1]
            text = f"{n.op_type}\n{wname.removesuffix('.weight').split('.')[-1]}"
        color = _COLORS.get(n.op_type, "#7f7f7f")
        ax.add_patch(FancyBboxPatch((i * step, 1.6), w, 0.7, boxstyle="round,pad=0.03", fc=color, alpha=0.35, ec=color))
        ax.text(i * step + w / 2, 1.95, text, ha="center", va="center", fontsize=7)
        if i:
            ax.annotate("", (i * step, 1.95), ((i - 1) * step + w, 1.95), arrowprops={"arrowstyle": "->", "lw": 0.7})
    add_i = next(i for i, n in enumerate(nodes) if n.op_type == "Add")
    skip_q = any(ix.via_dq(t) for t in nodes[add_i].input if t != nodes[add_i - 1].output[0])
    ax.annotate("", (add_i * step + w / 2, 2.3), (w / 2, 2.3),
                arrowprops={"arrowstyle": "->", "lw": 0.7, "connectionstyle": "arc3,rad=-0.12"})
    ax.text((add_i * step + w) / 2, 2.75, "skip connection" + (" (through this Q and its own DQ)" if skip_q
                                                              else " (no Q/DQ)"), ha="center", fontsize=7)
    groups = kernels(model, nodes)
    for a, b, text in groups:
        x0, x1 = a * step, b * step + w
        color = "#1f77b4" if "-> INT8" in text else ("#9467bd" if text.startswith("Add") else
                                                      "#d62728" if text == "quantize" else
                                                      "#7f7f7f" if text.startswith("end") else "#17becf")
        ax.add_patch(FancyBboxPatch((x0, 0.3), x1 - x0, 0.7, boxstyle="round,pad=0.03", fc=color, alpha=0.22, ec=color))
        ax.text((x0 + x1) / 2, 0.65, text, ha="center", va="center", fontsize=7)
    ax.text(-0.25, 1.95, "ONNX graph", ha="right", va="center", fontsize=8)
    ax.text(-0.25, 0.65, "allowed\nkernels", ha="right", va="center", fontsize=8)
    ax.set_xlim(-2.2, len(nodes) * step)
    ax.set_ylim(0, 3.3)
    ax.axis("off")
    return {"nodes": len(nodes), "kernels": len(groups),
            "int8_out": sum("-> INT8" in g[2] for g in groups), "float_out": sum("-> float" in g[2] for g in groups)}
