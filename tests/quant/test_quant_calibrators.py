"""demos.quant.calibrators on synthetic data with known answers, and their bad inputs.

The agreement with ModelOpt's calibrators is in test_quant_modelopt.py.
"""

import numpy as np
import pytest
from scipy import integrate, optimize, stats
from scipy.stats import entropy as scipy_kl

from demos.quant import (
    METHODS,
    Histogram,
    HistogramCollector,
    QuantInputError,
    calibrate,
    entropy_amax,
    entropy_curve,
    fake_quantize,
    histogram_of,
    max_amax,
    mse_amax,
    mse_curve,
    percentile_amax,
)

RNG = np.random.default_rng(7)


def test_max_is_exact_and_streams():
    x = RNG.standard_normal(10_000).astype(np.float32)
    c = HistogramCollector()
    for part in np.array_split(x, 7):
        c.update(part)
    assert calibrate(c, "max") == max_amax(x) == float(np.abs(x).max())


def test_flat_histogram_entropy_keeps_everything():
    """With identical counts in every bin, keeping all n bins gives Q == P exactly (KL = 0) while every
    smaller candidate folds the outliers into a spike in its last bin (KL > 0)."""
    h = Histogram.from_counts(np.full(2048, 100.0), np.arange(2049) / 2048)
    amaxes, kl = entropy_curve(h)
    assert kl[-1] == pytest.approx(0, abs=1e-12) and np.all(kl[:-1] > 0)
    assert entropy_amax(h) == 1.0


def _entropy_reference(counts, start=128, levels=128):
    """The algorithm of entropy_curve's docstring, transcribed literally: one candidate and one level at a
    time, KL from scipy. The library computes the same numbers from prefix sums."""
    out = []
    for i in range(start, counts.size + 1):
        h = counts[:i]
        p = h.copy()
        p[-1] += counts[i:].sum()
        level = np.arange(i) * levels // i
        q = np.zeros(i)
        for k in range(levels):
            members = level == k
            filled = members & (h > 0)
            if filled.any():
                q[filled] = h[members].sum() / filled.sum()
        support = p > 0
        out.append(np.inf if np.any(q[support] == 0) else scipy_kl(p, q))
    return np.array(out)


@pytest.mark.parametrize("kind", ["smooth", "sparse"])
def test_entropy_matches_a_literal_transcription(kind):
    """Smooth: Laplace counts. Sparse: 3,000 values over 512 bins, so many bins (and some last bins that
    receive outliers) are empty, which exercises the infinite-divergence branch."""
    rng = np.random.default_rng(3)
    n = 400_000 if kind == "smooth" else 3_000
    a = np.abs(rng.laplace(size=n))
    counts, edges = np.histogram(a, bins=512, range=(0, a.max()))
    h = Histogram.from_counts(counts, edges)
    _, kl = entropy_curve(h, exclude_zeros=False)
    ref = _entropy_reference(counts.astype(np.float64))
    np.testing.assert_array_equal(np.isinf(kl), np.isinf(ref))
    if kind == "sparse":
        assert np.isinf(ref).any()
    finite = np.isfinite(ref)
    np.testing.assert_allclose(kl[finite], ref[finite], rtol=1e-9, atol=1e-14)


def test_uniform_data_entropy_and_mse_stay_near_max():
    """Uniform data has no tail to clip: clipping any of it costs more than the finer steps gain.

    For U(-1, 1) the expected MSE is (A/127)^2/12 * A + (1-A)^3/3, minimal at A = 0.996; the entropy
    calibrator's KL is smallest with (almost) all bins kept.
    """
    x = RNG.uniform(-1, 1, 1_000_000)
    h = histogram_of(x)
    assert entropy_amax(h) == pytest.approx(1.0, abs=0.01)
    assert mse_amax(h) == pytest.approx(0.996, abs=0.004)


def test_percentile_ignores_outliers_and_matches_the_gaussian_quantile():
    x = np.concatenate([RNG.standard_normal(2_000_000), [60.0, -80.0, 100.0, -120.0, 150.0]])
    h = histogram_of(x)
    expected = stats.norm.ppf(1 - 0.0001 / 2)  # 99.99th percentile of |N(0, 1)| = 3.8906
    amax = percentile_amax(h, 99.99)
    assert max_amax(x) == 150.0
    # Within the sampling spread of this quantile (about 0.02 here) and one bin (150 -> 256/2048 = 0.125).
    assert abs(amax - np.percentile(np.abs(x), 99.99)) <= h.width
    assert abs(amax - expected) <= h.width + 0.05
    assert percentile_amax(h, 100) == 150.0
    assert percentile_amax(h, 50) == pytest.approx(stats.norm.ppf(0.75), abs=h.width)


def _laplace_expected_histogram(num_bins=2048, top=32.0):
    """Exact expected counts of |x| for x ~ Laplace(0, 1) (|x| ~ Exp(1)) per 1e9 values, no sampling noise.

    The mass above 32 (e**-32) is left out; its share of the error is below 1e-11.
    """
    edges = np.arange(num_bins + 1) * (top / num_bins)
    counts = 1e9 * -np.diff(np.exp(-edges))
    return Histogram.from_counts(counts, edges, amax=top)


def _laplace_true_mse(amax):
    """E[(x - Q(x))^2] for x ~ Laplace(0, 1) and INT8 with this amax, by numerical integration per step."""
    s = amax / 127
    grid = np.append((np.arange(127) + 0.5) * s, [np.inf])  # cell boundaries of the rounding, then clipping
    total, lo = 0.0, 0.0
    for k, hi in enumerate(grid):
        total += integrate.quad(lambda v: (v - k * s) ** 2 * np.exp(-v), lo, hi)[0]
        lo = hi
    return total  # |x| ~ Exp(1), and the error is symmetric in the sign


def test_mse_optimum_on_laplace_matches_a_brute_force_numeric_search():
    """The histogram MSE (uniform-within-bin integral) against the exact expected error by quadrature.

    The brute-force optimum is found with a bounded scalar search over the true expected MSE; the
    histogram answer is a bin edge, so it may differ by one bin (32/2048) plus the flatness of the curve.
    """
    h = _laplace_expected_histogram()
    ours = mse_amax(h)
    brute = optimize.minimize_scalar(_laplace_true_mse, bounds=(5, 15), method="bounded", options={"xatol": 1e-4}).x
    assert abs(ours - brute) <= 2 * h.width
    assert _laplace_true_mse(ours) <= _laplace_true_mse(brute) * 1.0005
    # The histogram's error estimate itself is accurate, not only its argmin.
    amaxes, errors = mse_curve(h)
    for a in (6.0, 9.0, 12.0):
        i = int(np.argmin(np.abs(amaxes - a)))
        assert errors[i] == pytest.approx(_laplace_true_mse(amaxes[i]), rel=2e-3)


def test_mse_on_samples_matches_brute_force_on_the_same_samples():
    """On a finite sample both see the same tail, so the optimum agrees to within the curve's flatness:
    the MSE at our amax is within 0.5 % of the best MSE found by fake-quantizing the raw data."""
    x = RNG.laplace(size=200_000).astype(np.float32)
    ours = mse_amax(histogram_of(x))
    grid = np.linspace(4, float(np.abs(x).max()), 300)
    raw = np.array([np.mean((x - fake_quantize(x, a)) ** 2) for a in grid])
    best = grid[int(np.argmin(raw))]
    ours_raw = np.mean((x - fake_quantize(x, ours)) ** 2)
    assert ours_raw <= raw.min() * 1.005
    assert abs(ours - best) / best < 0.1


def test_entropy_ignores_exact_zeros_by_default():
    """ReLU outputs are half exact zeros. Zeros are exactly representable, so by default the entropy
    calibrator removes them: the answer equals that for the positive values alone. Keeping them puts a
    spike in bin 0 that Q smears over a whole level, and the minimum moves to a smaller amax."""
    z = RNG.standard_normal(400_000)
    relu = np.maximum(z, 0)
    positive = relu[relu > 0]
    assert entropy_amax(histogram_of(relu)) == entropy_amax(histogram_of(positive))
    assert entropy_amax(histogram_of(relu), exclude_zeros=False) < entropy_amax(histogram_of(relu))


def test_stride_and_start_bin_bound_the_search():
    h = histogram_of(RNG.standard_normal(50_000))
    amaxes, _ = entropy_curve(h, stride=16)
    n = h.trimmed().counts.size
    assert amaxes[0] == 128 * h.width and amaxes[-1] == n * h.width and np.all(np.diff(amaxes) > 0)
    assert min(mse_curve(h, start_bin=1000)[0]) == 1000 * h.width


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_a_sane_amax(method):
    x = RNG.standard_normal(100_000)
    amax = calibrate(histogram_of(x), method)
    assert 2.5 < amax <= np.abs(x).max()


def test_fewer_bins_than_levels_keeps_everything():
    """When the data fills fewer bins than there are levels, no clipping can help: every method keeps
    the exact max (the only candidate is the bin edge above it, capped at the max)."""
    h = histogram_of(np.array([0.0, 0.0, 2e-4, 1e-3]), num_bins=16)
    assert h.trimmed().counts.size == 9
    assert entropy_amax(h) == mse_amax(h) == calibrate(h, "max") == 1e-3


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: calibrate(histogram_of(np.ones(4)), "kl"), "unknown calibration method 'kl'; use one of max, percentile"),
        (lambda: calibrate(np.ones(4), "entropy"), "expected a Histogram or HistogramCollector, got ndarray"),
        (lambda: calibrate(HistogramCollector(), "mse"), "no data collected yet"),
        (lambda: calibrate(HistogramCollector().update(np.zeros(9)), "entropy"), "all 9 collected values are zero"),
        (lambda: percentile_amax(histogram_of(np.ones(4)), 0), "percentile must be in \\(0, 100\\]"),
        (lambda: percentile_amax(histogram_of(np.ones(4)), 101), "percentile must be in"),
        (lambda: calibrate(histogram_of(np.ones(4)), "max", percentile=3), "takes no options"),
        (lambda: calibrate(histogram_of(np.ones(4)), "entropy", percentile=3), "bad option for method 'entropy'"),
        (lambda: entropy_amax(histogram_of(np.ones(4)), stride=0), "stride must be a positive int"),
        (lambda: mse_amax(histogram_of(np.ones(4)), dtype="fp8_e4m3"), "int8 and int4"),
        (lambda: max_amax(np.zeros((3, 3))), "all values of x are zero"),
        (lambda: max_amax(np.array([1.0, np.nan])), "NaN/Inf"),
        (lambda: max_amax([]), "x is empty"),
    ],
)
def test_bad_inputs(call, message):
    with pytest.raises(QuantInputError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_best_per_layer_counts_ties_apart():
    """The calibration page's "best on N layers": a ReLU6 layer where every method picks amax = 6 is a tie,
    not a win for max (np.argmax gives every tie to the first method)."""
    from demos.quant.calibrators import best_per_layer

    sqnr = {"max": np.array([40.0, 30.0, 35.0, 20.0]),
            "percentile": np.array([40.0, 31.0, 35.005, 25.0]),
            "entropy": np.array([40.0, 29.0, 34.0, 26.0]),
            "mse": np.array([40.0, 33.0, 35.0, 24.0])}
    best = best_per_layer(sqnr, tol=0.01)
    assert best["*"] == {"layers": 4, "ties": 2, "all": 1}
    assert best["max"] == {"alone": 0, "tied": 2}  # argmax would say max is best on layers 0 and 2
    assert best["percentile"] == {"alone": 0, "tied": 2}
    assert best["mse"] == {"alone": 1, "tied": 2}
    assert best["entropy"] == {"alone": 1, "tied": 1}
    assert sum(best[m]["alone"] for m in sqnr) + best["*"]["ties"] == best["*"]["layers"]
    with pytest.raises(QuantInputError):
        best_per_layer({})
