"""The TensorRT-scales CPU INT8 form folds ReLU6 (Clip(0, 6)) into the quantization: the Clip moves onto the
uint8 codes, the outputs stay bit-identical to the form that keeps the Clip in float, and ONNX Runtime then
fuses every convolution into an integer kernel with no float Clip or requantization left between them."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from demos.resnet50 import cpu_int8

C = 8


def _model():
    """x -> Conv -> Clip(0, 6) -> Conv -> Clip(0, 6) -> Conv -> y, plus a Clip whose input has a second
    consumer (it cannot be folded) and a Relu."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array((rng.standard_normal((C, C, 1, 1)) * 1.5).astype(np.float32), f"w{i}")
             for i in range(4)]
    inits += [numpy_helper.from_array(np.float32(0), "lo"), numpy_helper.from_array(np.float32(6), "hi")]
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["c0"], name="conv0"),
        helper.make_node("Clip", ["c0", "lo", "hi"], ["r0"], name="relu6_0"),
        helper.make_node("Conv", ["r0", "w1"], ["c1"], name="conv1"),
        helper.make_node("Clip", ["c1", "lo", "hi"], ["r1"], name="relu6_1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2"),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["r2"], name="relu6_shared"),
        helper.make_node("Relu", ["c2"], ["p2"], name="relu"),  # second consumer of c2
        helper.make_node("Add", ["r2", "p2"], ["s"], name="add"),
        helper.make_node("Conv", ["s", "w3"], ["y"], name="conv3"),
    ]
    graph = helper.make_graph(nodes, "relu6", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", C, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", C, 4, 4])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_fold_clips_only_where_the_input_feeds_the_clip_alone():
    model = _model()
    folds = cpu_int8.fold_clips(model)
    assert folds == {"r0": (0.0, 6.0), "r1": (0.0, 6.0)}
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Clip") == 1  # relu6_shared stays: c2 also feeds the Relu
    producers = {o: n.name for n in model.graph.node for o in n.output}
    assert producers["r0"] == "conv0" and producers["r1"] == "conv1" and "c0" not in producers


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("relu6")
    fp32 = tmp / "fp32.onnx"
    onnx.save(_model(), fp32)
    x = (np.random.default_rng(1).standard_normal((16, C, 4, 4)) * 2).astype(np.float32)
    amax = _max_calibration(fp32, x)
    # r0: amax above 6 (its codes stop at round(6 / s) < 127); r1: amax 6, the usual max calibration of a
    # saturating ReLU6 (codes up to 127).
    amax.update(r0=9.0, c0=9.0, r1=6.0, c1=6.0)
    out = {}
    for fold in (False, True):
        path = tmp / f"trt_scales_{fold}.onnx"
        rec = cpu_int8.quantize_trt_scales(fp32, path, amax, x, reduce_range="off", fold_relu6=fold)
        out[fold] = (path, rec)
    return fp32, x, amax, out


def _max_calibration(path, x) -> dict[str, float]:
    """max |t| of every tensor of the FP32 model on ``x``."""
    model = onnx.load(path)
    names = [o for n in model.graph.node for o in n.output]
    model.graph.output.extend(helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in names
                              if t != "y")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    values = sess.run(None, {"x": x})
    amax = {o.name: float(np.abs(v).max()) for o, v in zip(sess.get_outputs(), values)}
    return {**amax, "x": float(np.abs(x).max())}


def _run(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


def test_folded_form_gives_bit_identical_outputs(forms):
    """Where amax >= 6 the float Clip never let a code above round(6 / s) through either."""
    fp32, x, _, out = forms
    kept, folded = _run(out[False][0], x), _run(out[True][0], x)
    assert np.array_equal(kept, folded)
    ref = _run(fp32, x)
    assert np.linalg.norm(folded - ref) / np.linalg.norm(ref) < 0.1  # still the network it quantizes
    assert out[True][1]["folded_clips"] == 2 and out[False][1]["folded_clips"] == 0


def test_folded_clips_sit_on_the_codes_with_tensorrts_scales(forms):
    _, _, amax, out = forms
    q = onnx.load(out[True][0])
    inits = {i.name: numpy_helper.to_array(i) for i in q.graph.initializer}
    quant = {n.input[0]: n for n in q.graph.node if n.op_type == "QuantizeLinear"}
    code_clips = {n.input[0]: n for n in q.graph.node if n.op_type == "Clip"}
    for tensor, expected_max in (("r0", round(6 / (9.0 / 127))), ("r1", 127)):  # 85 and 127
        qn = quant[tensor]
        assert float(inits[qn.input[1]]) == pytest.approx(amax[tensor] / 127, rel=1e-6)  # TensorRT's scale
        assert int(inits[qn.input[2]]) == 0
        clip = code_clips[qn.output[0]]
        assert inits[clip.input[1]].dtype == np.uint8 and int(inits[clip.input[1]]) == 0
        assert int(inits[clip.input[2]]) == expected_max
        dq_inputs = {n.input[0] for n in q.graph.node if n.op_type == "DequantizeLinear"}
        assert clip.output[0] in dq_inputs and qn.output[0] not in dq_inputs


def test_below_6_the_codes_saturate_where_tensorrt_does(tmp_path):
    """With amax < 6, TensorRT saturates the ReLU6 output at amax (code 127); so does the folded Clip."""
    fp32 = tmp_path / "fp32.onnx"
    onnx.save(_model(), fp32)
    x = np.random.default_rng(2).standard_normal((8, C, 4, 4)).astype(np.float32)
    amax = {"x": 3.0, "r0": 4.0, "r1": 5.0, "r2": 6.0, "p2": 8.0, "s": 12.0, "y": 30.0}
    out = tmp_path / "folded.onnx"
    cpu_int8.quantize_trt_scales(fp32, out, amax, x, reduce_range="off")
    q = onnx.load(out)
    inits = {i.name: numpy_helper.to_array(i) for i in q.graph.initializer}
    maxima = {n.input[0]: int(inits[n.input[2]]) for n in q.graph.node
              if n.op_type == "Clip" and inits[n.input[2]].dtype == np.uint8}
    assert sorted(maxima.values()) == [127, 127]


def test_onnx_runtime_fuses_the_folded_form(forms):
    _, _, _, out = forms
    kept, folded = cpu_int8.ort_kernels(out[False][0]), cpu_int8.ort_kernels(out[True][0])
    assert kept.get("Clip", 0) == 3 and folded.get("Clip", 0) == 1  # only the unfoldable one stays float
    assert folded["Clip (uint8 codes)"] == 2
    assert folded["QLinearConv"] == kept["QLinearConv"] == 4
    assert folded.get("QuantizeLinear", 0) < kept["QuantizeLinear"]
    assert folded.get("DequantizeLinear", 0) < kept["DequantizeLinear"]


def test_clip_codes_refuses_a_nonzero_zero_point():
    q = helper.make_model(helper.make_graph(
        [helper.make_node("QuantizeLinear", ["t", "s", "z"], ["tq"]),
         helper.make_node("DequantizeLinear", ["tq", "s", "z"], ["td"])], "g",
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("td", TensorProto.FLOAT, [1])],
        [numpy_helper.from_array(np.float32(0.1), "s"), numpy_helper.from_array(np.uint8(128), "z")]))
    with pytest.raises(RuntimeError, match="zero point 128"):
        cpu_int8.clip_codes(q, {"t": (0.0, 6.0)})
    with pytest.raises(RuntimeError, match="was not quantized"):
        cpu_int8.clip_codes(q, {"other": (0.0, 6.0)})
