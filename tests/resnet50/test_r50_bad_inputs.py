"""Bad input: a one-line error, a non-zero exit, nothing half-written; odd images are handled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from demos import data, files
from demos.errors import UserError
from demos.resnet50.__main__ import main
from demos.trt import runtime

REPO = Path(__file__).resolve().parents[2]


def run_cli(*argv, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "demos.resnet50", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def one_line_error(proc, code, fragment):
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    assert fragment in lines[0]


def test_missing_model_cli(tmp_path):
    one_line_error(run_cli("--workdir", str(tmp_path), "eval"), 2, "no ONNX models")
    one_line_error(run_cli("--workdir", str(tmp_path), "fp16"), 2, "ONNX model not found")


def test_corrupt_onnx_and_foreign_onnx(tmp_path, capsys):
    (tmp_path / "fp32.onnx").write_bytes(b"\x00garbage" * 100)
    assert main(["--workdir", str(tmp_path), "ptq"]) == 2
    assert "is not a valid ONNX file" in capsys.readouterr().err
    import onnx
    from onnx import TensorProto, helper

    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])])
    onnx.save(helper.make_model(g), tmp_path / "fp32.onnx")
    assert main(["--workdir", str(tmp_path), "ptq"]) == 2
    assert "not written by this demo" in capsys.readouterr().err
    assert not list(tmp_path.glob("int8_*")) and not list(tmp_path.glob(".*tmp"))


def test_missing_runtime_exits_3():
    proc = run_cli("--workdir", "/nonexistent", "bench", "--backend", "torch-cuda")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    one_line_error(proc, 3, "needs a CUDA GPU")


def test_tensorrt_missing_for_build_and_eval(tmp_path, capsys):
    from demos.trt import loader

    if loader.available():
        pytest.skip("TensorRT is installed here")
    assert main(["--workdir", str(tmp_path), "build", "--backend", "trt11"]) == 3
    assert "TensorRT is not available" in capsys.readouterr().err
    (tmp_path / "fp32.onnx").write_bytes(b"x")
    assert main(["--workdir", str(tmp_path), "eval", "--backend", "trt"]) == 3
    assert "needs TensorRT and a GPU" in capsys.readouterr().err


def test_legacy_calibrator_says_what_it_skipped(capsys):
    from demos.trt import legacy, loader

    if loader.available():
        pytest.skip("TensorRT is installed here")
    rec = legacy.calibrate_from_args("unused.onnx", None, [], None)
    assert "TensorRT is not available" in rec["skipped"]
    assert "skipped TensorRT 10 legacy calibration" in capsys.readouterr().out


def test_engine_from_other_version_or_gpu():
    here = {"tensorrt_version": "10.13.0", "gpu": "NVIDIA H100", "compute_capability": "9.0"}
    runtime.check_compatible({"target": dict(here)}, here, "a.plan")
    with pytest.raises(UserError, match="built for tensorrt version 11.4"):
        runtime.check_compatible({"target": {**here, "tensorrt_version": "11.4"}}, here, "a.plan")
    with pytest.raises(UserError, match="built for gpu NVIDIA L4"):
        runtime.check_compatible({"target": {**here, "gpu": "NVIDIA L4"}}, here, "a.plan")
    with pytest.raises(UserError, match="TensorRT-RTX plan"):
        runtime.check_compatible({"target": {"tensorrt_rtx_version": "1.7"}}, here, "a.plan")


def test_missing_or_corrupt_engine_sidecar(tmp_path):
    plan = tmp_path / "m.trt.plan"
    with pytest.raises(UserError, match="engine not found"):
        runtime.read_sidecar(plan)
    plan.write_bytes(b"plan")
    with pytest.raises(UserError, match="is missing"):
        runtime.read_sidecar(plan)
    Path(str(plan) + ".json").write_text("{not json")
    with pytest.raises(UserError, match="corrupt"):
        runtime.read_sidecar(plan)


def test_corrupt_cache_is_reported(tmp_path):
    bad = tmp_path / "c.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(UserError, match="is corrupt"):
        files.load_cache(bad, {"k": 1})
    files.save_cache(tmp_path / "ok.npz", {"k": 1}, {"a": np.arange(3)}, {"v": 2})
    assert files.load_cache(tmp_path / "ok.npz", {"k": 2}) is None  # other key: recompute
    arrays, values = files.load_cache(tmp_path / "ok.npz", {"k": 1})
    assert arrays["a"].tolist() == [0, 1, 2] and values == {"v": 2}


def test_nothing_half_written(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            tmp.write_text('{"half": ')
            raise RuntimeError("interrupted")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    files.write_json(target, {"a": 1})
    assert oct(target.stat().st_mode & 0o777) != "0o600"


def _folder(tmp_path, images: dict[str, Image.Image | bytes]) -> Path:
    rows = ["file,class_index,wnid,name"]
    for i, (name, img) in enumerate(images.items()):
        if isinstance(img, bytes):
            (tmp_path / name).write_bytes(img)
        else:
            img.save(tmp_path / name, format="JPEG")
        rows.append(f"{name},{i},n0000000{i},thing{i}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_grayscale_cmyk_converted_unreadable_skipped(tmp_path):
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))
    folder = _folder(tmp_path, {"a.JPEG": rgb, "gray.JPEG": rgb.convert("L"), "cmyk.JPEG": rgb.convert("CMYK"),
                                "broken.JPEG": b"\xff\xd8\xff\xe0 not really a jpeg",
                                "empty.JPEG": b""})
    items = data.discover(folder)
    stats = data.LoadStats()
    x, y = data.load_array(items, data.Preprocess(), stats)
    assert x.shape == (3, 3, 224, 224) and x.dtype == np.float32
    assert stats.loaded == 3 and sorted(stats.skipped) == ["broken.JPEG", "empty.JPEG"]
    assert stats.converted == {"L": 1, "CMYK": 1}
    assert np.isfinite(x).all()


def test_image_folder_errors(tmp_path):
    with pytest.raises(UserError, match="image folder not found"):
        data.discover(tmp_path / "nope")
    with pytest.raises(UserError, match="no images found"):
        data.discover(tmp_path)
    (tmp_path / "labels.csv").write_text("file,label\nx.jpg,1\n")
    with pytest.raises(UserError, match="needs the columns"):
        data.discover(tmp_path)
    (tmp_path / "labels.csv").write_text("file,class_index\nx.jpg,cat\n")
    with pytest.raises(UserError, match="not an integer"):
        data.discover(tmp_path)
    (tmp_path / "labels.csv").write_text("file,class_index\nx.jpg,1\n")
    with pytest.raises(UserError, match="could be read"):
        data.load_array(data.discover(tmp_path), data.Preprocess())


def test_empty_calibration_pool(tmp_path, capsys):
    # two images whose path hashes both fall in the evaluation pool: no calibration images
    rng = np.random.default_rng(1)
    img = Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    names = [n for n in (f"img{i}.jpg" for i in range(20)) if data.Item(Path(n), 0, n).role == "evaluation"][:2]
    folder = _folder(tmp_path, {n: img for n in names})
    with pytest.raises(UserError, match="no calibration images"):
        data.split(data.discover(folder), "calibration")


def test_bad_weights_and_shapes(tmp_path):
    from demos import models, onnx_tools

    with pytest.raises(UserError, match="weights file not found"):
        models.build("resnet50", str(tmp_path / "missing.pt"))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="cannot read weights"):
        models.build("resnet50", str(tmp_path / "junk.pt"))
    with pytest.raises(UserError, match="unknown model"):
        models.build("vgg16", "random")

    import onnx
    from onnx import TensorProto, helper

    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", 3, 8, 8])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m.onnx")
    sess = onnx_tools.session(tmp_path / "m.onnx")
    with pytest.raises(UserError, match="does not fit"):
        onnx_tools.run(sess, np.zeros((1, 3, 9, 8), np.float32))
    assert onnx_tools.run(sess, np.zeros((2, 3, 8, 8), np.float32)).shape == (2, 3, 8, 8)


def test_bench_resume_keeps_earlier_results_and_refuses_another_machine(tmp_path, capsys):
    """A time-boxed ladder finished over two calls; a file from other software is refused, left untouched."""
    out = tmp_path / "bench.json"
    common = ["--workdir", str(tmp_path), "bench", "--backend", "torch-cpu", "--batch", "1", "--iterations", "1",
              "--repeats", "1", "--warmup", "0", "--threads", "1", "--out", str(out)]
    assert main([*common, "--configs", "fp32"]) == 0
    first = files.read_json(out)
    assert main([*common, "--configs", "fp32", "tf32", "--resume"]) == 0
    second = files.read_json(out)
    assert [r["variant"] for r in second["results"]] == ["fp32", "tf32"]
    assert second["results"][0] == first["results"][0]  # kept, not measured again
    assert second["earlier_calls"][0]["date"] == first["provenance"]["date"]

    second["provenance"]["versions"]["torch"] = "1.0"
    files.write_json(out, second)
    before = out.read_bytes()
    capsys.readouterr()
    assert main([*common, "--configs", "bf16_cl", "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "torch 1.0 ->" in err[0] and "new --out" in err[0]
    assert out.read_bytes() == before
    assert main([*common, "--backend", "ort", "--resume"]) == 2
