r"""Calibrators: turn collected statistics into ``amax``, the magnitude that maps to q_max.

Four methods, the ones TensorRT and ModelOpt offer:

``max``
    The largest magnitude seen. Nothing is clipped, so one outlier can stretch the scale and waste most of
    the 255 levels on values that never occur. Right for weights (per channel, :func:`per_channel_max`).
``percentile``
    The magnitude below which a given fraction (e.g. 99.99 %) of the values lie; the rest is clipped.
``entropy``
    TensorRT's entropy calibrator: the amax whose quantized distribution loses the least information,
    measured by the Kullback-Leibler divergence (see :func:`entropy_curve`).
``mse``
    The amax that minimizes the expected squared error between x and its quantized value, computed from
    the histogram in closed form (see :func:`mse_curve`).

The histogram-based methods take a :class:`~demos.quant.histogram.Histogram` or a
:class:`~demos.quant.histogram.HistogramCollector`. Every method raises a one-line
:class:`~demos.quant._arrays.QuantInputError` for bad input and never silently falls back to another
method: an unknown name is an error, not ``max``.
"""

from __future__ import annotations

import numpy as np

from ._arrays import QuantInputError, check_tensor, normalize_axis
from .histogram import Histogram, HistogramCollector
from .quantize import quant_type

#: The calibration methods :func:`calibrate` accepts.
METHODS = ("max", "percentile", "entropy", "mse")


# --- Max ----------------------------------------------------------------------------------------------

def max_amax(x) -> float:
    """Largest magnitude of ``x`` (per tensor)."""
    arr = check_tensor(x)
    amax = float(np.max(np.abs(arr)))
    if amax == 0.0:
        raise QuantInputError(
            "all values of x are zero, so there is no range to calibrate; leave this tensor unquantized"
        )
    return amax


def per_channel_max(x, axis: int = 0, allow_zero: bool = False) -> np.ndarray:
    """Largest magnitude of each channel along ``axis`` (0 for conv and linear weights), as float32.

    A channel whose values are all zero has amax 0, which no scale can be made from; that raises unless
    ``allow_zero=True`` (then replace the zeros with any positive value before quantizing: the channel's
    values stay exactly 0 whatever the scale).
    """
    arr = check_tensor(x)
    ax = normalize_axis(axis, arr.ndim)
    amax = np.max(np.abs(np.moveaxis(arr, ax, 0)).reshape(arr.shape[ax], -1), axis=1).astype(np.float32)
    if not allow_zero and np.any(amax == 0):
        dead = np.flatnonzero(amax == 0)
        raise QuantInputError(
            f"{dead.size} channel(s) along axis {axis} are all zero (first: {dead[:5].tolist()}); pass "
            f"allow_zero=True and give them any positive amax, their values stay 0"
        )
    return amax


# --- Histogram helpers ----------------------------------------------------------------------------------

def _as_histogram(source) -> Histogram:
    if isinstance(source, HistogramCollector):
        return source.histogram()
    if isinstance(source, Histogram):
        if source.counts.sum() == 0 or source.amax <= 0:
            raise QuantInputError("histogram holds no non-zero values; collect some data first")
        return source
    raise QuantInputError(
        f"expected a Histogram or HistogramCollector, got {type(source).__name__}; build one with "
        f"HistogramCollector().update(x) or histogram_of(x)"
    )


def _check_start_bin(start_bin: int, name: str = "start_bin") -> int:
    if isinstance(start_bin, bool) or not isinstance(start_bin, (int, np.integer)) or start_bin < 1:
        raise QuantInputError(f"{name} must be a positive int (128 for TensorRT's algorithm), got {start_bin!r}")
    return int(start_bin)


def _candidates(n: int, start_bin: int, stride: int) -> np.ndarray:
    """Numbers of bins kept, ``start_bin, start_bin + stride, ...`` up to ``n``, always including ``n``."""
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise QuantInputError(f"stride must be a positive int, got {stride!r}")
    if n <= start_bin:
        return np.array([n])
    cand = np.arange(start_bin, n + 1, stride)
    return cand if cand[-1] == n else np.append(cand, n)


# --- Percentile -----------------------------------------------------------------------------------------

def percentile_amax(source, percentile: float = 99.99) -> float:
    """Magnitude below which ``percentile`` % of the collected |x| lie.

    The crossing point is interpolated linearly inside the bin where the cumulative count reaches the
    target (values assumed uniform within a bin), and capped at the exact max. ``percentile=100`` returns
    the exact max. Zeros count as values, as in ModelOpt.
    """
    hist = _as_histogram(source)
    if not isinstance(percentile, (int, float, np.floating, np.integer)) or not 0 < percentile <= 100:
        raise QuantInputError(f"percentile must be in (0, 100], e.g. 99.99, got {percentile!r}")
    if percentile == 100:
        return float(hist.amax)
    c = hist.counts
    cdf = np.cumsum(c)
    target = percentile / 100.0 * cdf[-1]
    j = int(np.searchsorted(cdf, target, side="left"))
    before = cdf[j - 1] if j > 0 else 0.0
    frac = (target - before) / c[j] if c[j] > 0 else 1.0
    return float(min(hist.edges[j] + frac * hist.width, hist.amax))


# --- Entropy (KL divergence) ----------------------------------------------------------------------------

def entropy_curve(source, num_levels: int = 128, start_bin: int = 128, stride: int = 1,
                  exclude_zeros: bool = True) -> tuple[np.ndarray, np.ndarray]:
    r"""KL divergence of every candidate amax, as in TensorRT's entropy calibrator.

    The algorithm (Migacz, "8-bit Inference with TensorRT", GTC 2017), on a histogram of |x| with bins
    :math:`h_0, \dots, h_{n-1}` (TensorRT: n = 2048) and ``num_levels`` = 128 positive INT8 levels:

    for every candidate number of bins :math:`i` from ``start_bin`` (128) to :math:`n`
    (candidate amax = :math:`i \times` bin width, the upper edge of bin :math:`i-1`):

    1. **reference P** = :math:`h_0 \dots h_{i-1}`, with every value above the candidate (the outliers
       :math:`h_i + \dots + h_{n-1}`) added to the last bin, because clipping maps them there;
    2. **merge**: group :math:`h_0 \dots h_{i-1}` (without the outliers) into ``num_levels`` consecutive
       groups, bin :math:`j` going to level :math:`\lfloor j \cdot L / i \rfloor`; each group's total is
       what one quantization level would hold;
    3. **expand**: spread each group's total evenly over the bins of the group that were non-empty in the
       reference (empty bins stay empty, so Q is 0 exactly where the data is); this gives **Q** on the
       same :math:`i` bins as P;
    4. **normalize** P and Q to sum to 1 and compute
       :math:`D_{KL}(P \| Q) = \sum_j P_j \log (P_j / Q_j)` over :math:`P_j > 0`
       (infinite if some :math:`P_j > 0` has :math:`Q_j = 0`, which happens when outliers land in an empty
       last bin).

    The chosen amax minimizes the divergence (:func:`entropy_amax`; on ties, the larger amax).
    ``start_bin = 128`` is the smallest candidate that gives every level at least one bin.

    ``exclude_zeros`` (default True) removes exact zeros, which ReLU-type layers produce in bulk, from
    bin 0 before the search. Zeros are exactly representable at any scale, yet a spike of them in bin 0
    dominates P and pushes the minimum towards small amax. ModelOpt handles the same spike by setting
    ``h_0 = h_1``; with continuous data (no exact zeros) both choices are the plain algorithm above.

    Returns the candidate amax values and their divergences.
    """
    hist = _as_histogram(source).trimmed()
    start_bin = _check_start_bin(start_bin)
    if isinstance(num_levels, bool) or not isinstance(num_levels, (int, np.integer)) or num_levels < 2:
        raise QuantInputError(f"num_levels must be an int >= 2 (128 for INT8), got {num_levels!r}")
    counts = hist.counts.astype(np.float64).copy()
    if exclude_zeros:
        counts[0] -= hist.num_zeros
    if counts.sum() <= 0:
        raise QuantInputError("the histogram holds only zeros; there is no range to calibrate")
    cand = _candidates(counts.size, max(start_bin, num_levels), stride)
    return cand * hist.width, _kl_divergences(counts, cand, int(num_levels))


def _kl_divergences(h: np.ndarray, cand: np.ndarray, levels: int) -> np.ndarray:
    r"""D_KL(P || Q) of :func:`entropy_curve` for every candidate ``i`` in ``cand``, all at once.

    Within one level k (bins :math:`b_k \le j < b_{k+1}`, :math:`b_k = \lceil k i / L \rceil`), Q is
    :math:`T_k / N_k` on the :math:`N_k` non-empty bins, :math:`T_k` being the level's total. With
    :math:`T` the total count and :math:`C_i = \sum_{j<i} h_j`, the divergence is

    .. math::

        T \cdot D = \sum_k \Big[\sum_{j \in k} h_j \log h_j - T_k \log \frac{T_k}{N_k}\Big]
                 + C_i \log \frac{C_i}{T} + (\text{last bin, which also holds the outliers})

    so every level needs only differences of prefix sums: O(L) work per candidate instead of O(i).
    Prefix sums are kept in extended precision to avoid cancellation.
    """
    ld = np.longdouble
    h = h.astype(ld)
    nz = h > 0
    hlogh = np.where(nz, h * np.log(np.where(nz, h, 1)), 0)
    zero = np.zeros(1, ld)
    cum_h = np.concatenate([zero, np.cumsum(h)])
    cum_n = np.concatenate([zero, np.cumsum(nz.astype(ld))])
    cum_hlogh = np.concatenate([zero, np.cumsum(hlogh)])
    total = cum_h[-1]
    i = cand.astype(np.int64)[:, None]
    bounds = (np.arange(levels + 1, dtype=np.int64)[None, :] * i + levels - 1) // levels  # b_k, shape (C, L+1)
    t_k = np.diff(cum_h[bounds], axis=1)
    n_k = np.diff(cum_n[bounds], axis=1)
    s_k = np.diff(cum_hlogh[bounds], axis=1)
    filled = n_k > 0
    per_level = np.where(filled, s_k - t_k * np.log(np.where(filled, t_k / np.where(filled, n_k, 1), 1)), 0)
    c_i = cum_h[cand]
    last = h[cand - 1]
    outliers = total - c_i
    # Candidates with c_i == 0 (all mass above them) or outliers landing in an empty last bin have Q = 0
    # where P > 0: their divergence is infinite, set below; the warnings of their branches are noise.
    with np.errstate(divide="ignore", invalid="ignore"):
        t_d = per_level.sum(axis=1) + c_i * np.log(c_i / total)
        # The last bin holds h_{i-1} plus the outliers o: replace its term h log(h/Q) by (h+o) log((h+o)/Q).
        q_last = t_k[:, -1] / np.where(filled[:, -1], n_k[:, -1], 1) * (total / c_i)  # T * Q_{i-1}
        fix = np.where(
            last > 0,
            (last + outliers) * np.log((last + outliers) / q_last) - last * np.log(last / q_last),
            0,
        )
        kl = (t_d + fix) / total
    kl = np.where(((last == 0) & (outliers > 0)) | (c_i == 0), np.inf, kl)
    return np.maximum(kl, 0).astype(np.float64)


def entropy_amax(source, num_levels: int = 128, start_bin: int = 128, stride: int = 1,
                 exclude_zeros: bool = True) -> float:
    """Amax with the smallest KL divergence (TensorRT's entropy calibration); see :func:`entropy_curve`.

    Capped at the exact max, since the last candidate is the bin edge just above it.
    """
    amaxes, kl = entropy_curve(source, num_levels, start_bin, stride, exclude_zeros)
    hist = _as_histogram(source)
    if not np.any(np.isfinite(kl)):
        return float(hist.amax)
    best = len(kl) - 1 - int(np.argmin(kl[::-1]))  # the last minimum: prefer the larger range on ties
    return float(min(amaxes[best], hist.amax))  # the top candidate is the bin edge above the exact max


# --- MSE ------------------------------------------------------------------------------------------------

def _cell_integral(u: np.ndarray, qmax: float) -> np.ndarray:
    r"""G(u) = \int_0^u (v - Q(v))^2 dv for the unit-scale quantizer Q(v) = min(round(v), qmax), v >= 0.

    Below ``qmax - 1/2`` each rounding cell [k - 1/2, k + 1/2] contributes 1/12; above it everything maps
    to ``qmax`` and the error grows as (v - qmax)^2. Both cases are ``m/12 + (u - m)^3 / 3`` with
    ``m = min(floor(u + 1/2), qmax)``.
    """
    m = np.minimum(np.floor(u + 0.5), qmax)
    r = u - m
    return m / 12.0 + r * r * r / 3.0  # r * r * r: several times faster than r**3 in NumPy


def mse_curve(source, dtype: str = "int8", start_bin: int = 128, stride: int = 1,
              chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    r"""Expected squared quantization error for every candidate amax (a bin edge), from the histogram.

    Values are assumed uniformly spread inside each bin, which makes the expected error of a bin exact
    to compute: with scale :math:`s = \mathrm{amax}/q_{\max}` the integral of the squared error over
    :math:`[a, b]` is :math:`s^3 (G(b/s) - G(a/s))` (see :func:`_cell_integral`), covering rounding error
    inside the range and clipping error above it alike. Exact zeros are taken out of bin 0 (their error
    is 0) but still count in the mean. Unlike evaluating the error at bin centres (ModelOpt's way), this
    stays accurate when a quantization step is only a few bins wide.

    Candidates are the upper bin edges from ``start_bin`` bins to the last non-empty bin. Returns the
    candidate amax values and the mean squared error of each.
    """
    qt = quant_type(dtype)
    if qt.kind != "int":
        raise QuantInputError(f"mse calibration supports the integer types int8 and int4, not {qt.name}")
    hist = _as_histogram(source).trimmed()
    start_bin = _check_start_bin(start_bin)
    counts = hist.counts.astype(np.float64).copy()
    counts[0] -= hist.num_zeros
    cand = _candidates(counts.size, start_bin, stride)
    amaxes = cand * hist.width
    errors = np.empty(cand.size)
    edge_index = np.arange(counts.size + 1, dtype=np.float64)
    for start in range(0, cand.size, chunk):
        i = cand[start:start + chunk, None].astype(np.float64)
        # Edge j of the histogram is j * width; in units of the step s = i * width / q_max it is j * q_max / i.
        g = _cell_integral(edge_index[None, :] * (qt.qmax / i), qt.qmax)
        s = amaxes[start:start + chunk] / qt.qmax
        # Mean of s^3 * (G(b/s) - G(a/s)) / width over the values of each bin.
        errors[start:start + chunk] = s**3 / hist.width * (np.diff(g, axis=1) @ counts) / hist.total
    return amaxes, errors


def mse_amax(source, dtype: str = "int8", start_bin: int = 128, stride: int = 1) -> float:
    """Amax with the smallest expected squared quantization error; see :func:`mse_curve`.

    Capped at the exact max, since the last candidate is the bin edge just above it.
    """
    amaxes, errors = mse_curve(source, dtype, start_bin, stride)
    return float(min(amaxes[int(np.argmin(errors))], _as_histogram(source).amax))


# --- Dispatcher -----------------------------------------------------------------------------------------

def calibrate(source, method: str, **kwargs) -> float:
    """Amax from ``source`` (a Histogram or HistogramCollector) with ``method``, one of :data:`METHODS`.

    ``max`` returns the exact largest magnitude the collector saw. Extra keyword arguments go to the
    method's function (``percentile=``, ``start_bin=``, ...).
    """
    if method == "max":
        if kwargs:
            raise QuantInputError(f"method 'max' takes no options, got {sorted(kwargs)}")
        return float(_as_histogram(source).amax)
    funcs = {"percentile": percentile_amax, "entropy": entropy_amax, "mse": mse_amax}
    if method not in funcs:
        raise QuantInputError(f"unknown calibration method {method!r}; use one of {', '.join(METHODS)}")
    try:
        return funcs[method](source, **kwargs)
    except TypeError as exc:
        raise QuantInputError(f"bad option for method {method!r}: {exc}") from None


def best_per_layer(scores: dict[str, np.ndarray], tol: float = 0.01) -> dict[str, dict[str, int]]:
    """Which method scores best on each layer (higher is better, e.g. SQNR in dB), with ties kept apart.

    ``scores`` maps a method name to one score per layer. A method is *at the top* of a layer when no other
    method beats it by more than ``tol``; it is best ``alone`` when it is the only one at the top, and
    ``tied`` otherwise. (``np.argmax`` would hand every tie, such as a ReLU6 output where every method
    picks amax = 6, to the first method.) The extra key ``"*"`` counts the ``layers``, the ``ties`` and the
    ties of ``all`` methods.
    """
    if not scores:
        raise QuantInputError("best_per_layer needs the scores of at least one method")
    table = np.stack([np.asarray(v, dtype=np.float64) for v in scores.values()])  # [method, layer]
    top = table >= table.max(axis=0) - tol
    alone = top & (top.sum(axis=0) == 1)
    out = {m: {"alone": int(np.count_nonzero(alone[k])), "tied": int(np.count_nonzero(top[k] & ~alone[k]))}
           for k, m in enumerate(scores)}
    out["*"] = {"layers": table.shape[1], "ties": int(np.count_nonzero(top.sum(axis=0) > 1)),
                "all": int(np.count_nonzero(top.all(axis=0)))}
    return out
