"""demos.quant.formats: facts read from the types, and the TF32 emulation."""

import ml_dtypes
import numpy as np
import pytest

from demos.quant import FORMAT_NAMES, all_formats, format_info, representable_values, round_to_tf32


def test_known_facts_follow_from_bit_layout():
    # Independent check: for an IEEE-like layout, these follow from the exponent/fraction widths.
    for name in ("fp32", "fp16", "bf16", "fp8_e5m2"):
        f = format_info(name)
        bias = 2 ** (f.exponent_bits - 1) - 1
        assert f.eps == 2.0**-f.mantissa_bits
        assert f.smallest_normal == 2.0 ** (1 - bias)
        assert f.smallest_subnormal == 2.0 ** (1 - bias - f.mantissa_bits)
        assert f.max == (2 - 2.0**-f.mantissa_bits) * 2.0**bias
        assert f.has_inf
    # E4M3 "fn": no infinity, top exponent holds finite values, only S.1111.111 is NaN -> max 1.75 * 2**8.
    e4m3 = format_info("fp8_e4m3")
    assert (e4m3.max, e4m3.has_inf, e4m3.layout) == (448.0, False, (1, 4, 3))
    assert format_info("int8").min == -128 and format_info("int4").max == 7


def test_tf32_is_fp32_range_with_fp16_precision():
    tf32, fp32, fp16 = format_info("tf32"), format_info("fp32"), format_info("fp16")
    assert tf32.exponent_bits == fp32.exponent_bits and tf32.smallest_normal == fp32.smallest_normal
    assert tf32.eps == fp16.eps
    assert tf32.dtype is None


def test_round_to_tf32_matches_rounding_by_value():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(100_000) * 10.0 ** rng.integers(-30, 30, 100_000)).astype(np.float32)
    t = round_to_tf32(x).astype(np.float64)
    # Reference: round the significand to 10 fraction bits with ties to even, using float64 arithmetic.
    m, e = np.frexp(x.astype(np.float64))
    ref = np.ldexp(np.rint(m * 2**11) / 2**11, e)
    np.testing.assert_array_equal(t, ref)
    assert np.isnan(round_to_tf32(np.float32(np.nan)))


def test_representable_values_enumerate_the_type():
    v = representable_values("fp8_e4m3")
    # 256 patterns - 2 NaN - (+0/-0 merged) = 253 distinct finite values.
    assert v.size == 253 and v.max() == 448 and v[v > 0].min() == format_info("fp8_e4m3").smallest_subnormal
    assert representable_values("int4").tolist() == list(range(-8, 8))
    f16 = representable_values("fp16")
    assert f16.max() == 65504 and np.all(np.diff(f16) > 0)
    # Every listed value survives a round trip through the dtype.
    assert np.array_equal(v.astype(ml_dtypes.float8_e4m3fn).astype(np.float64), v)


def test_format_names_and_errors():
    assert [f.name for f in all_formats()] == list(FORMAT_NAMES)
    with pytest.raises(ValueError, match="unknown format 'fp12'; use one of"):
        format_info("fp12")
    with pytest.raises(ValueError, match="too many values"):
        representable_values("fp32")
