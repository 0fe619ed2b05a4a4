"""Issue 16: nothing stale is used silently, and the library never crashes on a file it cannot use.

Each test starts from a copy of the EfficientNet-Lite0 pipeline's workdir (the ``eff`` fixture) and
reproduces one reported case: a re-export into the same folder, a truncated plan, Ctrl-C in ``ptq``, a
record without ``variant``, a cache with the wrong number of rows, models of the wrong shape.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from demos import data, files, onnx_tools
from demos.resnet50 import workdir

pytestmark = pytest.mark.slow


def one_line(capsys) -> str:
    """The stage's one ``error:`` line (its progress bars, also on stderr, aside)."""
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip() and not re.search(r"\d+%\|", ln)]
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], err
    return err[0]


def _copy(eff, dest: Path, engines: bool = False) -> Path:
    shutil.copytree(eff.root, dest, ignore=None if engines else shutil.ignore_patterns("engines"))
    return dest


def _run(root: Path, *argv: str) -> int:
    from demos.resnet50.__main__ import main

    return main(["--workdir", str(root), *argv])


@pytest.fixture(scope="module")
def reexported(eff, tmp_path_factory):
    """The workdir after ``export`` wrote a different ``fp32.onnx`` into it (the first conv's weights doubled,
    as another checkpoint of the same model would): every later file and record is now stale."""
    root = _copy(eff, tmp_path_factory.mktemp("reexport") / "w")
    model = onnx.load(root / "fp32.onnx")
    first_conv = next(n for n in model.graph.node if n.op_type == "Conv")
    w = next(i for i in model.graph.initializer if i.name == first_conv.input[1])
    w.CopyFrom(numpy_helper.from_array(2 * numpy_helper.to_array(w), w.name))
    onnx.save(model, root / "fp32.onnx")
    return root, w.name


def test_report_refuses_records_of_an_earlier_export(reexported, capsys):
    """``report`` used to print a table headed by the new model with the old model's accuracy."""
    root, _ = reexported
    before = (root / "report.md").read_bytes()
    assert _run(root, "report") == 2
    line = one_line(capsys)
    assert "was made from another fp32.onnx than the workdir's" in line and "rerun `" in line
    assert (root / "report.md").read_bytes() == before


def test_eval_refuses_a_mixed_workdir_before_writing(reexported, capsys):
    """``eval`` used to rewrite ``eval_fp32_ort.json`` before it refused the mixed workdir."""
    root, _ = reexported
    before = {p.name: p.read_bytes() for p in (root / "results").iterdir()}
    assert _run(root, "eval", "--eval-count", "8") == 2
    assert "was made from another fp32.onnx" in one_line(capsys)
    assert {p.name: p.read_bytes() for p in (root / "results").iterdir()} == before


def test_ptq_does_not_reuse_a_placement_of_an_earlier_fp32(reexported, capsys):
    """``ptq --methods percentile`` used to take ``int8_max.onnx`` (made from the earlier fp32.onnx) as its
    placement: the new model's INT8 file held the old weights."""
    root, weight = reexported
    assert _run(root, "ptq", "--methods", "percentile", "--no-cpu-forms", "--calib-count", "8") == 0
    fp32 = {i.name: numpy_helper.to_array(i) for i in onnx.load(root / "fp32.onnx").graph.initializer}
    int8 = {i.name: numpy_helper.to_array(i) for i in onnx.load(root / "int8_percentile.onnx").graph.initializer}
    assert np.array_equal(int8[weight], fp32[weight])  # the new weights, behind Q/DQ
    meta = onnx_tools.metadata(onnx.load(root / "int8_percentile.onnx"))
    assert meta[workdir.FP32_KEY] == files.sha256_file(root / "fp32.onnx")
    rec = files.read_json(root / "results" / "ptq_int8.json")
    assert rec["fp32_sha256"] == meta[workdir.FP32_KEY] and rec["inputs"]["images"] == 8
    # Run again: the placement is reused now that its key matches (it is not rebuilt every time).
    place = root / "cache" / "placement.onnx"
    stamp = place.stat().st_mtime_ns
    assert _run(root, "ptq", "--methods", "percentile", "--no-cpu-forms", "--calib-count", "8") == 0
    assert place.stat().st_mtime_ns == stamp


def test_every_file_and_record_names_its_inputs(eff):
    fp32_sha = files.sha256_file(eff.path("fp32.onnx"))
    for name in ("fp16", "int8_max", "int8_entropy", "int8_percentile", "int8_mse", "int8_qat",
                 "cpu_int8_trt_scales", "cpu_int8_best"):
        meta = onnx_tools.metadata(onnx.load(eff.path(f"{name}.onnx")))
        assert meta[workdir.FP32_KEY] == fp32_sha and len(meta[workdir.INPUTS_KEY]) == 64, name
    for rec_path in (eff.root / "results").glob("*.json"):
        rec = files.read_json(rec_path)
        if rec["stage"] in ("export", "fp16", "ptq", "qat", "eval"):
            assert rec["fp32_sha256"] == fp32_sha, rec_path.name
            assert rec["inputs_sha256"] == files.sha256_json(rec["inputs"]), rec_path.name
    ev = eff.result("eval_int8_max_ort")
    assert ev["model_sha256"] == files.sha256_file(eff.path("int8_max.onnx"))
    assert data.SPLIT_RULE in ev["dataset"]["split"]


def test_truncated_plan_is_rebuilt(eff, tmp_path, capsys):
    """Only the sidecar's key was compared: a truncated plan was "up to date"."""
    root = _copy(eff, tmp_path / "w", engines=True)
    assert _run(root, "build", "--models", "fp32") == 0
    assert "fp32.rtx.plan: up to date" in capsys.readouterr().out
    plan = root / "engines" / "fp32.rtx.plan"
    plan.write_bytes(plan.read_bytes()[: plan.stat().st_size // 2])
    assert _run(root, "build", "--models", "fp32") == 0
    assert "fp32.onnx -> fp32.rtx.plan" in capsys.readouterr().out
    side = files.read_json(Path(str(plan) + ".json"))
    assert side["plan_sha256"] == files.sha256_file(plan)


def test_ctrl_c_in_ptq_leaves_no_record_of_the_previous_run(eff, tmp_path, monkeypatch, capsys):
    root = _copy(eff, tmp_path / "w")
    assert (root / "results" / "ptq_int8.json").exists()
    from demos.resnet50 import ptq

    calls = []

    def interrupted(fp32_path, out, *args, **kwargs):
        calls.append(out)
        raise KeyboardInterrupt

    monkeypatch.setattr(ptq, "modelopt_quantize", interrupted)
    assert _run(root, "ptq", "--methods", "max", "--calib-count", "32", "--no-cpu-forms") == 130
    assert calls and one_line(capsys) == "error: interrupted (no partial files were kept)"
    assert not (root / "results" / "ptq_int8.json").exists()


def test_record_without_variant(tmp_path, capsys):
    (tmp_path / "results").mkdir()
    files.write_json(tmp_path / "results" / "eval_x_ort.json", {"stage": "eval", "backend": "ort", "top1": 0.5})
    assert _run(tmp_path, "report") == 2
    assert "eval record without variant" in one_line(capsys)
    files.write_json(tmp_path / "results" / "eval_x_ort.json", [1, 2])
    assert _run(tmp_path, "report") == 2
    assert "is not a result record of this demo" in one_line(capsys)
    assert not (tmp_path / "report.md").exists()


def test_cache_with_the_right_key_but_wrong_rows_in_eval(eff, tmp_path, capsys):
    root = tmp_path / "w"
    root.mkdir()
    shutil.copy(eff.path("fp32.onnx"), root / "fp32.onnx")
    assert _run(root, "eval", "--eval-count", "8") == 0
    capsys.readouterr()
    (cache,) = (root / "cache").glob("fp32_logits_*.npz")
    with np.load(cache) as z:
        key = files.loads(bytes(z["__meta__"]).decode())["key"]
        logits = z["a/logits"]
    files.save_cache(cache, key, {"logits": logits[:3]})  # the right key, three rows instead of eight
    assert _run(root, "eval", "--eval-count", "8") == 2
    assert "is inconsistent (logits: 3 rows, expected 8)" in one_line(capsys)


def _tiny_model(eff, root: Path, hw: int, classes: int) -> None:
    """A model with the demo's metadata (as ``export`` writes it) but another input size or class count."""
    spec = onnx_tools.spec_of(onnx.load(eff.path("fp32.onnx")))
    nodes = [helper.make_node("GlobalAveragePool", ["input"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "w"], ["logits"], transB=1)]
    w = numpy_helper.from_array(np.ones((classes, 3), np.float32), "w")
    g = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["b", 3, hw, hw])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", classes])], [w])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx_tools.set_metadata(model, {**spec.to_metadata(), "demo.stage": "export"})
    root.mkdir()
    onnx.save(model, root / "fp32.onnx")


def test_model_with_the_wrong_input_size(eff, tmp_path, capsys):
    _tiny_model(eff, tmp_path / "w", 32, 1000)
    for stage in ("fp16", "ptq", "qat"):  # each used to fail inside ONNX Runtime or ModelOpt
        assert _run(tmp_path / "w", stage) == 2
        line = one_line(capsys)
        assert "takes ?x3x32x32 inputs, but its preprocessing makes batches of 3x224x224 images" in line, stage
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["fp32.onnx"]


def test_three_class_model_in_eval(eff, tmp_path, capsys):
    _tiny_model(eff, tmp_path / "w", 224, 3)
    assert _run(tmp_path / "w", "eval", "--eval-count", "4") == 2
    assert "gives 3 outputs per image, but the labels are ImageNet's 1000 classes" in one_line(capsys)
    assert not (tmp_path / "w" / "results").exists()
