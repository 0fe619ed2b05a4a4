"""demos.gallery_cache: shared artefacts are reused for the same key and recomputed when anything changes."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from demos import data, files, gallery_cache


def _require_samples():
    if not (data.SAMPLES / "labels.csv").is_file():
        pytest.skip(f"sample images not found at {data.SAMPLES}")


def _tiny_classifier(path, scale: float) -> None:
    """A real ONNX model: global average pool of the image and a 3 -> 4 linear layer."""
    w = (np.arange(12, dtype=np.float32).reshape(3, 4) - 6) * scale
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["flat"]),
         helper.make_node("MatMul", ["flat", "w"], ["logits"])],
        "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel())])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]), str(path))


@pytest.fixture
def art(tmp_path):
    _require_samples()
    return gallery_cache.Artifacts("efficientnet_lite0", root=tmp_path / "cache")


def test_images_are_the_split_and_cached(art):
    imgs = art.images("calib", count=6)
    expected = data.split(data.discover(data.SAMPLES), "calibration", 6)
    assert [it.rel for it in imgs.items] == [it.rel for it in expected]
    assert imgs.array.shape == (6, 3, 224, 224) and imgs.array.dtype == np.float32
    assert imgs.labels.tolist() == [it.label for it in expected]
    assert imgs.data_hash == data.data_hash(expected)
    # The same images come back from the cache file, bit for bit.
    cached = list(art.workdir.cache.glob("images_calib_*.npz"))
    assert len(cached) == 1
    again = art.images("calib", count=6)
    np.testing.assert_array_equal(again.array, imgs.array)
    # Another model's preprocessing is another key: the cached arrays are not reused.
    other = gallery_cache.Artifacts("resnet50", weights="random", root=art.workdir.root)
    assert not np.array_equal(other.images("calib", count=6).array, imgs.array)


def test_eval_and_calib_never_overlap(art):
    ev = {it.rel for it in art.images("eval", count=40).items}
    ca = {it.rel for it in art.images("calib", count=40).items}
    assert ev and ca and not ev & ca


def test_unknown_role_is_refused(art):
    with pytest.raises(ValueError, match="role must be one of"):
        art.images("train")


def test_logits_match_onnxruntime_and_follow_the_model_file(art, tmp_path):
    model = tmp_path / "tiny.onnx"
    _tiny_classifier(model, 1.0)
    imgs = art.images("eval", count=5)
    got = art.ort_logits(model, imgs, batch=2)
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(got, sess.run(None, {"input": imgs.array})[0], rtol=1e-5, atol=1e-6)
    assert art.ort_logits(model, imgs) is not None and len(list(art.workdir.cache.glob("logits_*.npz"))) == 1
    # A changed model file is a new key: new logits, not the cached ones.
    _tiny_classifier(model, 2.0)
    np.testing.assert_allclose(art.ort_logits(model, imgs), 2 * got, rtol=1e-5, atol=1e-6)


def test_export_is_reused_only_for_an_unchanged_file_and_key(art, monkeypatch):
    from demos.resnet50 import export

    calls = []

    def fake_export(name, weights, out, *a, **k):  # records the call; writes a real (tiny) ONNX file
        calls.append((name, weights))
        out.parent.mkdir(parents=True, exist_ok=True)
        _tiny_classifier(out, float(len(calls)))
        return {"model": name}

    monkeypatch.setattr(export, "export", fake_export)
    path = art.fp32_onnx()
    assert calls == [("efficientnet_lite0", "pretrained")]
    assert art.fp32_onnx() == path and len(calls) == 1
    path.write_bytes(path.read_bytes() + b"\0")  # tampered file: exported again
    art.fp32_onnx()
    assert len(calls) == 2
    key_file = art.workdir.cache / "fp32.key.json"
    stored = files.read_json(key_file)
    stored["key"]["torch"] = "0.0"  # another PyTorch: exported again
    files.write_json(key_file, stored)
    art.fp32_onnx()
    assert len(calls) == 3
