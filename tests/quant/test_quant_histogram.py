"""demos.quant.histogram: streaming equals one-shot exactly, bounded memory, state round trip, bad inputs."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.quant import Histogram, HistogramCollector, QuantInputError, histogram_of


def _assert_same(a: Histogram, b: Histogram):
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.edges, b.edges)
    assert (a.amax, a.num_zeros) == (b.amax, b.num_zeros)


def test_one_shot_matches_numpy_histogram_on_the_same_bins():
    x = np.random.default_rng(0).standard_normal(100_000).astype(np.float32)
    h = histogram_of(x, 1024)
    assert h.edges[-1] == 8.0 and h.amax == np.abs(x).max() < 8.0  # 2**3 is the power of two above max|x|
    ref, _ = np.histogram(np.abs(x).astype(np.float64), bins=h.edges)
    np.testing.assert_array_equal(h.counts, ref)
    assert h.total == x.size


def test_streaming_equals_one_shot_exactly_when_the_range_grows_many_times():
    rng = np.random.default_rng(1)
    # Batches whose scale jumps by up to 2**40, including all-zero batches and exact powers of two.
    batches = [np.zeros(10), rng.standard_normal(1000) * 1e-6, np.array([0.25, 0.5, 1.0, 2.0]),
               rng.laplace(size=5000) * 30, np.zeros(7), rng.standard_normal(3000) * 1e6]
    c = HistogramCollector(2048)
    for b in batches:
        c.update(b)
    _assert_same(c.histogram(), histogram_of(np.concatenate(batches), 2048))
    # Same for the reverse order: the result does not depend on the order of batches.
    c2 = HistogramCollector(2048)
    for b in reversed(batches):
        c2.update(b)
    _assert_same(c2.histogram(), c.histogram())
    assert c.num_batches == 6 and c.num_zeros == 17


def test_extreme_float32_ranges_stay_exact():
    """Near the float32 limits the bin factor num_bins / R is not a float32 number (R = 2**128 or a
    subnormal range); the product then runs in float64, and streaming still equals one-shot."""
    f32 = np.finfo(np.float32)
    batches = [np.array([f32.smallest_subnormal, 3 * f32.smallest_subnormal], np.float32),
               np.array([1.0, -f32.smallest_normal], np.float32),
               np.array([f32.max, -f32.max / 3], np.float32)]
    c = HistogramCollector()
    for b in batches:
        c.update(b)
    h = c.histogram()
    _assert_same(h, histogram_of(np.concatenate(batches)))
    assert h.edges[-1] == 2.0**128 and h.counts[-1] == 1 and h.counts[0] == 4
    tiny = histogram_of(batches[0])
    # max = 3 * 2**-149 -> R = 2**-147 = 4 subnormal steps: the two values land at 1/4 and 3/4 of the bins.
    assert tiny.edges[-1] == 2.0**-147 and np.flatnonzero(tiny.counts).tolist() == [512, 1536]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(-2.0**100, 2.0**100, allow_nan=False, width=32), min_size=1, max_size=40),
        min_size=1, max_size=8,
    ),
    st.sampled_from([2, 16, 2048]),
)
def test_streaming_equals_one_shot_property(batches, num_bins):
    arrays = [np.array(b, np.float32) for b in batches]
    c = HistogramCollector(num_bins)
    for a in arrays:
        c.update(a)
    both = np.concatenate(arrays)
    if not np.any(both):
        with pytest.raises(QuantInputError, match="all .* collected values are zero"):
            c.histogram()
        return
    _assert_same(c.histogram(), histogram_of(both, num_bins))
    # Merging two halves collected separately is exact as well.
    left, right = HistogramCollector(num_bins), HistogramCollector(num_bins)
    for a in arrays[: len(arrays) // 2]:
        left.update(a)
    for a in arrays[len(arrays) // 2:]:
        right.update(a)
    _assert_same(left.merge(right).histogram(), c.histogram())


def test_memory_is_bounded_by_num_bins():
    c = HistogramCollector(512)
    rng = np.random.default_rng(2)
    for k in range(50):
        c.update(rng.standard_normal(2000) * (k + 1))
        assert c.counts.shape == (512,)
    assert c.num_values == 100_000 and c.histogram().counts.sum() == 100_000


def test_torch_batches_and_state_dict_round_trip():
    c = HistogramCollector(256)
    for _ in range(3):
        c.update(torch.randn(4, 3, 8, 8, dtype=torch.float16))
    state = json.loads(json.dumps(c.state_dict()))  # plain JSON, no pickle
    _assert_same(HistogramCollector.from_state_dict(state).histogram(), c.histogram())
    state["counts"][0] += 1
    with pytest.raises(QuantInputError, match="inconsistent"):
        HistogramCollector.from_state_dict(state)
    with pytest.raises(QuantInputError, match="not a HistogramCollector state"):
        HistogramCollector.from_state_dict({"num_bins": 256})


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: HistogramCollector(1000), "power of two"),
        (lambda: HistogramCollector(2048).update(np.array([])), "batch is empty"),
        (lambda: HistogramCollector(2048).update(np.array([1.0, np.inf, np.nan])), "2 NaN/Inf value"),
        (lambda: HistogramCollector(2048).histogram(), "no data collected yet"),
        (lambda: HistogramCollector(2048).update(np.zeros(5)).histogram(), "all 5 collected values are zero"),
        (lambda: HistogramCollector(16).merge(HistogramCollector(32)), "same num_bins"),
        (lambda: Histogram.from_counts([1, 2], [0, 1]), "len\\(counts\\)\\+1 edges"),
        (lambda: Histogram.from_counts([1, 2], [1, 2, 3]), "start at 0"),
        (lambda: Histogram.from_counts([0, 0], [0, 1, 2]), "histogram is empty"),
    ],
)
def test_bad_inputs(call, message):
    with pytest.raises(QuantInputError, match=message) as info:
        call()
    assert "\n" not in str(info.value)
