"""demos.resnet50.calib_study: split, statistics, Q/DQ surgery, calibration and the committed study."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from demos import data, onnx_tools
from demos.errors import UserError
from demos.resnet50 import calib_study as cs
from demos.resnet50 import qdq

from .conftest import CALIB_COUNT, SAMPLES, _require_samples


# --- Data and statistics (no model) ---------------------------------------------------------------------

def test_study_split_is_disjoint_and_keeps_the_demo_calibration_pool():
    _require_samples()
    items = data.discover(SAMPLES)
    calib, evals = cs.study_split(items, 500)
    assert len(calib) == 500 and len(evals) == len(items) - 500
    assert not {it.rel for it in calib} & {it.rel for it in evals}
    demo_calib = {it.rel for it in data.split(items, "calibration")}
    assert demo_calib <= {it.rel for it in calib}  # the demo's pool comes first
    assert all(it.role == "evaluation" for it in evals)
    with pytest.raises(UserError, match="choose 1.."):
        cs.study_split(items, len(items))


def test_one_group_selects_dog_classes_only():
    _require_samples()
    dogs = cs.one_group(data.discover(SAMPLES))
    assert dogs and all(151 <= it.label <= 268 for it in dogs)
    assert len(dogs) == 118  # one image per class in the sample folder


def test_synthetic_images_are_normalized_like_the_model_input():
    pre = data.Preprocess((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), size=8)
    blank = cs.synthetic_images("blank", 2, pre)
    assert blank.shape == (2, 3, 8, 8) and np.all(blank == 0.0)  # mid-grey is 0 after (x - 0.5) / 0.5
    noise = cs.synthetic_images("noise", 3, pre, seed=1)
    assert noise.min() >= -1.0 and noise.max() <= 1.0 and noise.std() > 0.5
    assert np.array_equal(noise, cs.synthetic_images("noise", 3, pre, seed=1))
    with pytest.raises(ValueError):
        cs.synthetic_images("stripes", 1, pre)


def test_wilson_interval_matches_scipy():
    from scipy.stats import binomtest

    for k, n in ((0, 10), (7, 10), (391, 500), (500, 500)):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        lo, hi = cs.wilson(k, n)
        assert lo == pytest.approx(ci.low, abs=2e-4) and hi == pytest.approx(ci.high, abs=2e-4)


def test_mcnemar_counts_discordant_pairs():
    a = np.array([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1], bool)
    b = np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], bool)
    r = cs.mcnemar(a, b)
    assert (r["only_a_correct"], r["only_b_correct"]) == (9, 1)
    assert 0.01 < r["p_value"] < 0.05  # 9 vs 1 discordant pairs: two-sided exact p = 0.021
    assert cs.mcnemar(a, a)["p_value"] == 1.0


# --- On the real EfficientNet-Lite0 pipeline (shared session fixture) ------------------------------------

@pytest.fixture(scope="module")
def setup(eff):
    fp32 = eff.path("fp32.onnx")
    qz = cs.Quantizer(fp32, eff.path("int8_max.onnx"))
    spec = onnx_tools.spec_of(onnx_tools.load(fp32))
    items = data.split(data.discover(SAMPLES), "evaluation", 8)
    x, y = data.load_array(items, spec.preprocess)
    return fp32, qz, cs.Evaluator.from_fp32(fp32, x, y), spec


def test_unquantize_everything_gives_fp32_logits(setup):
    fp32, qz, ev, _ = setup
    m = onnx.ModelProto()
    m.CopyFrom(qz.placement)
    info = cs.unquantize(m, qz.tensors)
    assert not any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in m.graph.node)
    assert info["removed_nodes"] == 4 * len(qz.tensors)  # activation Q/DQ + weight Q/DQ per layer
    logits = cs.Evaluator.logits_of(m, ev.x)
    np.testing.assert_allclose(logits, ev.ref, rtol=1e-5, atol=1e-4)
    assert cs.Evaluator.logits_of(qz.placement, ev.x).tolist() != ev.ref.tolist()  # INT8 really differs


def test_unquantize_one_layer_names_it_and_rejects_unknown_tensors(setup):
    _, qz, _, _ = setup
    m = onnx.ModelProto()
    m.CopyFrom(qz.placement)
    before = len(m.graph.node)
    info = cs.unquantize(m, [qz.tensors[0]])
    assert len(m.graph.node) == before - 4
    weights = {i.name for i in m.graph.initializer}
    assert all(label + ".weight" in weights for label in info["layers"])
    assert qz.tensors[0] not in qdq.activation_quantizers(m)
    with pytest.raises(UserError, match="not a quantized activation"):
        cs.unquantize(m, ["no_such_tensor"])


def test_max_calibration_reproduces_modelopt_scales(setup, eff):
    """The study's calibration on the ptq stage's images gives ModelOpt's own max scales."""
    fp32, qz, _, spec = setup
    x, _ = data.load_array(data.split(data.discover(SAMPLES), "calibration", CALIB_COUNT), spec.preprocess)
    amax = qz.amax(qz.collect(x), "max")
    modelopt = qdq.read_amax(onnx_tools.load(eff.path("int8_max.onnx")))
    assert set(amax) == set(modelopt)
    for t, a in amax.items():
        assert a == pytest.approx(modelopt[t], rel=1e-5), t
    model, report = qz.model({t: 2 * a for t, a in amax.items()})
    assert report["written"] == len(amax) and not report["kept"]
    doubled = qdq.read_amax(model)
    assert all(doubled[t] == pytest.approx(2 * amax[t], rel=1e-6) for t in amax)


def test_sensitivity_and_scores_on_real_images(setup):
    _, qz, ev, _ = setup
    amax = qdq.read_amax(qz.placement)
    rows = cs.sensitivity(qz, amax, ev, images=4, tensors=qz.tensors[:2])
    assert [r["tensor"] for r in rows] == qz.tensors[:2]
    assert all(r["rel_l2_vs_fp32"] > 0 and r["images"] == 4 for r in rows)
    assert all(r["removed_nodes"] == 4 * (len(qz.tensors) - 1) for r in rows)
    s = ev.score(ev.ref)
    assert s["agreement_with_fp32"] == 1.0 and s["rel_l2_vs_fp32"] == 0.0
    assert s["top1_ci95"][0] <= s["top1"] <= s["top1_ci95"][1]


def test_cli_refuses_bad_arguments_without_writing(setup, tmp_path, capsys):
    fp32 = setup[0]
    out = tmp_path / "study.json"
    assert cs.main(["--onnx", str(fp32), "--calib-images", "5000", "--out", str(out),
                    "--workdir", str(tmp_path / "w")]) == 2
    assert "choose 1.." in capsys.readouterr().err and not out.exists()
    assert cs.main(["--onnx", str(tmp_path / "missing.onnx"), "--out", str(out)]) == 2
    assert "not found" in capsys.readouterr().err and not out.exists()
    assert cs.main(["--onnx", str(fp32), "--out", str(tmp_path / "study.txt")]) == 2


# --- The committed full-size study -------------------------------------------------------------------------

def test_committed_study_is_consistent_and_renders():
    if not cs.RESULT.exists():
        pytest.skip(f"{cs.RESULT} not committed")
    _require_samples()
    study = json.loads(cs.RESULT.read_text())
    assert study["real_weights"] and study["model"] == "efficientnet_lite0"
    calib, evals = cs.study_split(data.discover(SAMPLES), 500)
    assert data.data_hash(calib) == study["data"]["calibration_sha256"]
    assert data.data_hash(evals) == study["data"]["evaluation_sha256"]
    calib_rel = {it.rel for it in calib}
    for row in study["counts"]:
        assert len(row["images"]) == row["count"] and set(row["images"]) <= calib_rel
        for res in row["results"].values():
            assert res["images"] == len(evals)
            assert res["top1_ci95"][0] <= res["top1"] <= res["top1_ci95"][1]
    assert {r["count"] for r in study["counts"]} == set(cs.COUNTS)
    assert len(study["sensitivity"]["rows"]) == len({r["tensor"] for r in study["sensitivity"]["rows"]})
    for text in (cs.count_table(study), cs.unrepresentative_table(study), cs.keep_table(study)):
        assert "FP32" in text
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4)
    cs.plot_counts(study, axes[:2])
    cs.plot_sensitivity(study, axes[2])
    cs.plot_keep(study, axes[3])
    plt.close(fig)
