"""Per-tensor errors of a low-precision model against FP32, in graph order, and the layer where they explode.

``polygraphy run ... --onnx-outputs mark all --compare snr --save-accuracy-results FILE`` writes the
signal-to-noise ratio of every intermediate tensor, in dB: ``10 log10(sum out^2 / sum (out - ref)^2)``, where
``out`` is the run being checked and ``ref`` the loaded reference (Polygraphy's definition). While the
error is small, 20 dB is a relative L2 error of about 10 %, 40 dB of about 1 %. :func:`read_metric` reads such a file, and
:class:`Graph` puts the tensors of the FP32 ONNX model in order with a readable layer name each.

Two views of the graph matter. ONNX Runtime runs every node and so can report every tensor; TensorRT fuses
a convolution with the activation after it (and with a following Q/DQ pair), so the convolution's raw
output never exists in the engine. :meth:`Graph.fused` keeps the tensors that survive that fusion, and
:func:`first_explosion` looks for the first fused layer whose input still passes a threshold while its
output falls below it by a large step: the layer that breaks the model, not one that inherits the damage.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

ACTIVATIONS = ("Clip", "Relu")
_NAMES = {"ReduceMean": "global average pool", "GlobalAveragePool": "global average pool", "Reshape": "flatten",
          "Flatten": "flatten", "Gemm": "classifier", "MatMul": "classifier"}


def read_metric(path: str | Path, metric: str = "snr") -> dict[str, float]:
    """``{tensor: value}`` from a ``--save-accuracy-results`` file (the first comparison, averaged over
    iterations). ``metric`` is the field of Polygraphy's result objects: ``snr``, ``l2_norm``, ..."""
    from polygraphy.comparator.struct import AccuracyResults
    from polygraphy.logger import G_LOGGER

    with G_LOGGER.verbosity(G_LOGGER.WARNING):  # load() announces itself at INFO level
        results = AccuracyResults.load(str(path))
    for result in results:
        for iterations in result.values():
            values: dict[str, list[float]] = {}
            for it in iterations:
                for name, out in it.items():
                    if hasattr(out, metric):
                        values.setdefault(name, []).append(float(getattr(out, metric)))
            if values:
                return {k: sum(v) / len(v) for k, v in values.items()}
    raise ValueError(f"{path} holds no '{metric}' comparison (run polygraphy with --compare {metric})")


@dataclass
class Tensor:
    name: str
    op: str  # the ONNX op that produces it
    layer: str  # readable: "blocks.1.0.conv_dw + ReLU6", "residual add, blocks.2.1", "classifier"
    block: str  # "stem", "0", "1", ... "head"
    inputs: list[str] = field(default_factory=list)  # activation inputs of the producing node
    fused_away: bool = False  # a convolution output that TensorRT fuses with the activation after it


class Graph:
    """The tensors of an FP32 ONNX model in graph order, named after the layers that produce them."""

    def __init__(self, onnx_path: str | Path):
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(onnx_path), load_external_data=False)
        g = model.graph
        inits = {i.name: i for i in g.initializer}
        consumers: dict[str, list] = {}
        for node in g.node:
            for i in node.input:
                consumers.setdefault(i, []).append(node)
        self.inputs = [i.name for i in g.input if i.name not in inits]
        self.tensors: dict[str, Tensor] = {}
        last_layer = "stem"
        for node in g.node:
            acts = [i for i in node.input if i and i not in inits and not self._is_constant(i, g)]
            weight = next((i for i in node.input[1:] if i in inits and i.endswith(".weight")), None)
            if weight:
                last_layer = weight[: -len(".weight")]
            if node.op_type in ("Conv", "Gemm", "MatMul") and weight:
                layer = last_layer
            elif node.op_type in ACTIVATIONS:
                layer = f"{last_layer} + {self._activation_name(node, inits, numpy_helper)}"
            elif node.op_type == "Add" and len(acts) == 2:
                m = re.match(r"blocks\.\d+\.\d+", last_layer)
                layer = f"residual add, {m.group(0) if m else last_layer}"
            else:
                layer = _NAMES.get(node.op_type, node.op_type)
            for out in node.output:
                users = consumers.get(out, [])
                fused = (node.op_type == "Conv" and len(users) == 1 and users[0].op_type in ACTIVATIONS)
                self.tensors[out] = Tensor(out, node.op_type, layer, _block_of(last_layer, node.op_type), acts, fused)

    @staticmethod
    def _is_constant(name: str, g) -> bool:
        return any(n.op_type == "Constant" and name in n.output for n in g.node)

    @staticmethod
    def _activation_name(node, inits, numpy_helper) -> str:
        if node.op_type == "Relu":
            return "ReLU"
        bounds = [float(numpy_helper.to_array(inits[i])) for i in node.input[1:] if i in inits]
        return "ReLU6" if bounds == [0.0, 6.0] else "Clip"

    def order(self, names) -> list[str]:
        """``names`` in graph order (names the graph does not produce are dropped)."""
        wanted = set(names)
        return [t for t in self.tensors if t in wanted]

    def fused(self, names) -> list[str]:
        """Like :meth:`order`, without the convolution outputs that TensorRT fuses away."""
        return [t for t in self.order(names) if not self.tensors[t].fused_away]

    def upstream(self, name: str) -> list[str]:
        """The tensors a fused layer reads: the activation inputs, looking through fused-away outputs."""
        out = []
        for i in self.tensors[name].inputs:
            t = self.tensors.get(i)
            out += self.upstream(i) if t is not None and t.fused_away else [i]
        return out


@dataclass
class Step:
    tensor: str
    layer: str
    snr_in: float  # the worst SNR among the layer's inputs (inf for the model's input)
    snr_out: float

    @property
    def drop(self) -> float:
        return self.snr_in - self.snr_out


def steps(graph: Graph, snr: dict[str, float]) -> list[Step]:
    """For every fused layer with a measured output: its input and output SNR."""
    rows = []
    for t in graph.fused(snr):
        ins = [snr.get(u, math.inf if u in graph.inputs else math.nan) for u in graph.upstream(t)]
        ins = [v for v in ins if not math.isnan(v)]
        rows.append(Step(t, graph.tensors[t].layer, min(ins) if ins else math.inf, snr[t]))
    return rows


def first_failure(graph: Graph, snr: dict[str, float], threshold: float = 20.0) -> Step | None:
    """The first fused layer whose output SNR is below ``threshold`` dB."""
    return next((s for s in steps(graph, snr) if s.snr_out < threshold), None)


def first_explosion(graph: Graph, snr: dict[str, float], threshold: float = 20.0,
                    jump: float = 10.0) -> Step | None:
    """The first fused layer whose input passes ``threshold`` dB and whose output fails it, ``jump`` dB or
    more below its input (the noise grows tenfold or more in that one layer); None if there is none."""
    return next((s for s in steps(graph, snr)
                 if s.snr_in >= threshold > s.snr_out and s.drop >= jump), None)


def _block_of(layer: str, op: str) -> str:
    m = re.match(r"blocks\.(\d+)\.", layer)
    if m:
        return m.group(1)
    return "stem" if "stem" in layer else "head"


def plot(ax, graph: Graph, curves: dict[str, dict[str, float]], threshold: float = 20.0,
         mark: Step | None = None, colors: dict[str, str] | None = None) -> None:
    """SNR of every fused tensor in graph order, one line per model; x ticks at the first tensor of each block."""
    names = graph.fused(next(iter(curves.values())))
    x = range(len(names))
    for label, snr in curves.items():
        ax.plot(x, [snr.get(n, math.nan) for n in names], ".-", lw=1, ms=3, label=label,
                color=(colors or {}).get(label))
    ax.axhline(threshold, color="0.3", ls="--", lw=1, label=f"threshold {threshold:g} dB")
    if mark is not None and mark.tensor in names:
        i = names.index(mark.tensor)
        ax.annotate(f"first explosion: {mark.layer}\n{mark.snr_in:.0f} dB in, {mark.snr_out:.0f} dB out",
                    (i, mark.snr_out), xytext=(i + 4, mark.snr_out + 14), fontsize=8,
                    arrowprops={"arrowstyle": "->", "lw": 0.8})
    ticks, labels, seen = [], [], set()
    for i, n in enumerate(names):
        b = graph.tensors[n].block
        if b in seen:
            continue
        seen.add(b)
        text = b if b in ("stem", "head") else f"block {b}"
        if ticks and i - ticks[-1] < 2:  # too close to the previous label: share its tick
            labels[-1] += f", {text}"
        else:
            ticks.append(i)
            labels.append(text)
    ax.set_xticks(ticks, labels, fontsize=8, rotation=30, ha="right")
    ax.set_xlabel("tensor, in graph order (fused view: activations, projections, residual adds, head)")
    ax.set_ylabel("SNR vs FP32 (dB)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center", bbox_to_anchor=(0.55, 0.55), ncol=4)
