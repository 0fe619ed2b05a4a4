"""demos.quant.quantize: round-trip bounds, per-channel axes, agreement with ONNX Runtime, bad inputs."""

import ml_dtypes
import numpy as np
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper

from demos.quant import (
    QuantInputError,
    dequantize,
    error_breakdown,
    fake_quantize,
    per_channel_max,
    quantize,
    scale_from_amax,
)

RNG = np.random.default_rng(1234)


def test_int8_round_trip_error_at_most_half_a_step_inside_the_range():
    x = RNG.standard_normal(200_000).astype(np.float32) * 3
    amax = 5.0
    scale = scale_from_amax(amax)
    assert scale == np.float32(amax / 127)
    q = quantize(x, scale)
    assert q.dtype == np.int8 and q.min() >= -127 and q.max() <= 127
    err = np.abs(x - dequantize(q, scale))
    inside = np.abs(x) <= amax
    # Half a step, plus float32 rounding of x/scale and q*scale (a few ulps of amax).
    assert err[inside].max() <= scale / 2 + 4 * np.finfo(np.float32).eps * amax
    # Outside the range the value is clipped to +-127 * scale.
    np.testing.assert_allclose(dequantize(q, scale)[~inside], np.sign(x[~inside]) * 127 * scale, rtol=1e-6)


def test_rounding_is_half_to_even_and_narrow_range():
    scale = 1.0
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 126.5, -126.5, -127.6, -128, 200], np.float32)
    assert quantize(x, scale).tolist() == [0, 2, 2, 0, -2, 126, -126, -127, -127, 127]
    assert quantize(x, scale, narrow_range=False).tolist()[-3:] == [-128, -128, 127]


def test_fp8_round_trip_relative_error_and_saturation():
    x = RNG.standard_normal(100_000).astype(np.float32)
    amax = float(np.abs(x).max())
    for dtype, mant in (("fp8_e4m3", 3), ("fp8_e5m2", 2)):
        dq = fake_quantize(x, amax, dtype)
        big = np.abs(x) > amax / 100  # normal range of the scaled values: relative error <= 2**-(m+1)
        rel = np.abs(dq[big] - x[big]) / np.abs(x[big])
        assert rel.max() <= 2.0 ** -(mant + 1) * (1 + 1e-6)
    # Beyond amax: saturate to +-amax instead of E4M3's NaN.
    out = fake_quantize(np.array([10.0, -10.0], np.float32), 1.0, "fp8_e4m3")
    np.testing.assert_allclose(out, [1.0, -1.0])
    assert quantize(np.array([1.0], np.float32), 1 / 448, "fp8_e4m3").dtype == ml_dtypes.float8_e4m3fn


def test_int4_uses_seven_levels():
    q = quantize(np.linspace(-1, 1, 15, dtype=np.float32), scale_from_amax(1.0, "int4"), "int4")
    assert q.dtype == ml_dtypes.int4 and q.astype(int).tolist() == list(range(-7, 8))


@pytest.mark.parametrize("axis", [0, 1, -1, 3])
def test_per_channel_axis(axis):
    w = RNG.standard_normal((6, 5, 3, 4)).astype(np.float32)
    w *= np.geomspace(0.01, 10, w.shape[axis]).reshape([-1 if d == axis % 4 else 1 for d in range(4)])
    amax = per_channel_max(w, axis)
    assert amax.shape == (w.shape[axis],)
    np.testing.assert_array_equal(amax, np.abs(np.moveaxis(w, axis, 0)).reshape(w.shape[axis], -1).max(1))
    scale = scale_from_amax(amax)
    q = quantize(w, scale, axis=axis)
    # Every channel uses its full range: its largest value maps to +-127.
    assert np.all(np.abs(np.moveaxis(q.astype(int), axis, 0)).reshape(w.shape[axis], -1).max(1) == 127)
    err = np.abs(w - dequantize(q, scale, axis=axis))
    bound = np.expand_dims(scale, [d for d in range(4) if d != axis % 4]) / 2 * (1 + 1e-5)
    assert np.all(err <= bound)
    # Per channel beats per tensor on channels of very different size.
    assert np.mean((w - fake_quantize(w, amax, axis=axis)) ** 2) < np.mean((w - fake_quantize(w, amax.max())) ** 2)


def test_error_breakdown_splits_rounding_and_clipping():
    x = RNG.laplace(size=50_000).astype(np.float32)
    b = error_breakdown(x, 2.0)
    total = float(np.mean((x.astype(np.float64) - fake_quantize(x, 2.0)) ** 2))
    assert b["total"] == pytest.approx(total, rel=1e-9)
    assert b["clipping"] > b["rounding"] > 0  # amax=2 clips a Laplace(1) heavily
    assert error_breakdown(x, float(np.abs(x).max()))["clipping"] == 0


def test_torch_tensors_are_accepted():
    t = torch.randn(4, 8, dtype=torch.bfloat16, requires_grad=True)
    a = per_channel_max(t, 0)
    out = fake_quantize(t, a, axis=0)
    ref = fake_quantize(t.detach().float().numpy(), a, axis=0)
    np.testing.assert_array_equal(out, ref)


# --- Agreement with ONNX Runtime's QuantizeLinear ----------------------------------------------------------

def _qdq_session(elem, axis=None, channels=None):
    """QuantizeLinear (opset 21, zero point 0) followed by DequantizeLinear, on ONNX Runtime CPU."""
    shape = [] if axis is None else [channels]
    zp_bytes = np.zeros(channels or 1, np.uint8).tobytes()
    zp = helper.make_tensor("zp", elem, shape, zp_bytes, raw=True)
    attrs = {} if axis is None else {"axis": axis}
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"], **attrs),
        helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"], **attrs),
    ]
    graph = helper.make_graph(
        nodes, "qdq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("q_out", elem, None), helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[zp],
    )
    graph.node.append(helper.make_node("Identity", ["q"], ["q_out"]))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def test_int8_matches_onnxruntime_bit_for_bit_including_ties():
    """ORT's QuantizeLinear rounds half to even and saturates to [-128, 127]: equal to narrow_range=False.

    Inputs include exact ties (k + 1/2) * scale and values far outside the range.
    """
    scale = np.float32(0.0123)
    ties = ((RNG.integers(-140, 140, 20_000) + 0.5) * scale).astype(np.float32)
    x = np.concatenate([RNG.standard_normal(200_000).astype(np.float32) * 3, ties])
    q_ort, y_ort = _qdq_session(TensorProto.INT8).run(None, {"x": x, "s": np.array(scale)})
    np.testing.assert_array_equal(quantize(x, scale, narrow_range=False), q_ort)
    np.testing.assert_array_equal(dequantize(q_ort, scale), y_ort)
    # Narrow range differs only where ORT produced -128.
    assert np.array_equal(quantize(x, scale) != q_ort, q_ort == -128)


def test_int8_per_channel_matches_onnxruntime():
    w = RNG.standard_normal((16, 3, 3, 3)).astype(np.float32) * np.linspace(0.1, 2, 16, dtype=np.float32)[:, None, None, None]
    scale = scale_from_amax(per_channel_max(w, 0))
    q_ort, _ = _qdq_session(TensorProto.INT8, axis=0, channels=16).run(None, {"x": w, "s": scale})
    np.testing.assert_array_equal(quantize(w, scale, axis=0), q_ort)


@pytest.mark.parametrize("name,elem", [("fp8_e4m3", TensorProto.FLOAT8E4M3FN), ("fp8_e5m2", TensorProto.FLOAT8E5M2)])
def test_fp8_matches_onnxruntime(name, elem):
    """ORT's float8 QuantizeLinear (saturate=1) rounds to nearest even and clips: compare dequantized values
    (ORT cannot hand E5M2 tensors to NumPy, so the Q output is checked through DequantizeLinear)."""
    x = np.concatenate([RNG.standard_normal(100_000) * 40, RNG.standard_normal(1000) * 1e4]).astype(np.float32)
    scale = np.float32(0.37)
    (y_ort,) = _qdq_session(elem).run(["y"], {"x": x, "s": np.array(scale)})
    np.testing.assert_array_equal(dequantize(quantize(x, scale, name), scale), y_ort)


# --- Bad inputs -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: quantize(np.array([], np.float32), 1.0), "x is empty"),
        (lambda: quantize(np.array([1.0, np.nan]), 1.0), "1 NaN/Inf value"),
        (lambda: quantize(np.array([np.inf]), 1.0), "NaN/Inf"),
        (lambda: quantize(np.ones(3), 0.0), "scale must be positive and finite, got 0.0;"),
        (lambda: fake_quantize(np.ones(3), np.inf), "amax must be positive and finite, got inf"),
        (lambda: scale_from_amax(np.zeros(3)), "all-zero tensor or channel"),
        (lambda: quantize(np.ones((4, 3)), np.ones(3)), "axis=None means one per tensor"),
        (lambda: quantize(np.ones((4, 3)), np.ones(3), axis=0), "x has 4 channels along axis 0"),
        (lambda: quantize(np.ones((4, 3)), np.ones(4), axis=2), "axis=2 is out of range for a 2-D tensor"),
        (lambda: quantize(np.ones((4, 3)), np.ones(4), axis="0"), "axis must be an int"),
        (lambda: quantize(np.ones(3), 1.0, "int3"), "unknown quantized type 'int3'"),
        (lambda: quantize(np.array(["a"]), 1.0), "not a number type"),
        (lambda: per_channel_max(np.zeros((2, 3)), 0), "are all zero"),
    ],
)
def test_bad_inputs_raise_one_line_errors(call, message):
    with pytest.raises(QuantInputError, match=message) as info:
        call()
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)
