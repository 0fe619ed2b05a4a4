"""Per-tensor SNR from Polygraphy, the fused view of the graph, and the first exploding layer (issue 17)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from demos.debugging import layerwise, polygraphy_cli


def test_graph_names_orders_and_fuses(tiny):
    g = layerwise.Graph(tiny["fp32"])
    assert list(g.tensors) == ["c1_out", "relu6", "c2_out", "sum", "pooled", "flat", "logits"]
    assert [g.tensors[t].layer for t in g.tensors] == [
        "c1", "c1 + ReLU6", "c2", "residual add, c2", "global average pool", "flatten", "classifier"]
    assert g.tensors["c1_out"].fused_away and not g.tensors["c2_out"].fused_away
    assert g.fused(["logits", "c1_out", "relu6"]) == ["relu6", "logits"]
    assert g.upstream("relu6") == ["x"]  # through the fused-away convolution output
    assert g.upstream("sum") == ["c2_out", "x"]


def test_first_explosion_needs_a_passing_input_and_a_big_step(tiny):
    g = layerwise.Graph(tiny["fp32"])
    # relu6 fails but its input is the exact model input: a failure, and an explosion (inf -> 15 dB).
    snr = {"c1_out": 5.0, "relu6": 15.0, "c2_out": 14.0, "sum": 13.0, "pooled": 12.0, "flat": 12.0, "logits": 11.0}
    assert layerwise.first_failure(g, snr).tensor == "relu6"
    assert layerwise.first_explosion(g, snr).tensor == "relu6"
    # Slow decay below the threshold: failures, no explosion.
    snr.update(relu6=30.0, c2_out=24.0, sum=19.0, pooled=17.0, flat=17.0, logits=16.0)
    step = layerwise.first_failure(g, snr)
    assert (step.tensor, step.snr_in, step.snr_out) == ("sum", 24.0, 19.0)
    assert layerwise.first_explosion(g, snr) is None
    # A 14 dB drop from a passing input at c2: that layer breaks the model.
    snr.update(c2_out=16.0)
    boom = layerwise.first_explosion(g, snr)
    assert (boom.tensor, boom.layer, round(boom.drop)) == ("c2_out", "c2", 14)
    assert math.isinf(layerwise.steps(g, snr)[0].snr_in)


@pytest.mark.slow
def test_polygraphy_snr_file_is_read_back_as_polygraphy_measured_it(tiny):
    """Run polygraphy as the page does, then check read_metric against an SNR computed independently."""
    import onnxruntime as ort
    from polygraphy.json import save_json

    work = tiny["dir"]
    save_json([{"x": tiny["x"]}], work / "inputs.json")
    ref = polygraphy_cli.run(["run", "fp32.onnx", "--onnxrt", "--onnx-outputs", "mark", "all", "--load-inputs",
                              "inputs.json", "--save-outputs", "fp32_outputs.json"], cwd=work)
    assert ref.code == 0, ref.output[-2000:]
    cmp = polygraphy_cli.run(["run", "int8.onnx", "--onnxrt", "--graph-optimization-level", "ORT_DISABLE_ALL",
                              "--onnx-outputs", "mark", "all", "--load-inputs", "inputs.json", "--load-outputs",
                              "fp32_outputs.json", "--compare", "snr", "--snr-threshold", "20",
                              "--save-accuracy-results", "snr.json"], cwd=work)
    assert cmp.code in (0, 1), cmp.output[-2000:]
    snr = layerwise.read_metric(work / "snr.json", "snr")
    assert set(snr) == {"c1_out", "relu6", "c2_out", "sum", "pooled", "flat", "logits"}  # shared tensors only

    def logits(path, level):
        opts = ort.SessionOptions()
        opts.graph_optimization_level = level
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"]).run(None, {"x": tiny["x"]})[0]

    a = logits(tiny["fp32"], ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    b = logits(tiny["int8"], ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    # Polygraphy's SNR: the power of the run being checked over the power of its difference to the reference.
    expected = 10 * np.log10(np.sum(b.astype(np.float64) ** 2) / np.sum((b - a).astype(np.float64) ** 2))
    assert snr["logits"] == pytest.approx(expected, abs=1e-3)
    text = polygraphy_cli.summary(cmp.output)
    assert "Accuracy Summary" in text and "Runtime:" not in text
    with pytest.raises(ValueError, match="no 'l2_norm' comparison"):
        layerwise.read_metric(work / "snr.json", "l2_norm")


def test_summary_keeps_verdicts_and_shortens_lists():
    out = "\n".join([
        "[I] onnxrt-runner-N0-12/05/26-09:14:50 | Activating and starting inference",
        "[I]     getitem | Stats: mean=0.1",
        "[E]     FAILED | SNR | Mismatched outputs: ['a', 'b', 'c', 'd', 'e', 'f']",
        "[E] Accuracy Summary | onnxrt-runner-N0-12/05/26-09:14:50 vs. onnxrt-runner-N0-12/05/26-09:10:46 | Passed: 0/1",
        "[E] FAILED | Runtime: 6.556s | Command: -c run int8.onnx",
    ])
    assert polygraphy_cli.summary(out, max_names=2).splitlines() == [
        "[E]     FAILED | SNR | Mismatched outputs: ['a', 'b', ... 6 in all]",
        "[E] Accuracy Summary | onnxrt-runner vs. onnxrt-runner | Passed: 0/1",
        "[E] FAILED",
    ]
