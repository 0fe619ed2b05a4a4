"""A streaming histogram of |x| with bounded memory, exact under streaming.

Calibration sees activations batch by batch, and a model has dozens of layers, so keeping every value is
not an option. :class:`HistogramCollector` keeps ``num_bins`` integer counts and three numbers, whatever
the number of batches.

Design: the bins always span ``[0, R)`` where ``R`` is a power of two strictly above the largest magnitude
seen so far (so the data fills more than half of the bins). A value goes to bin ``floor(|x| * (num_bins / R))``;
since ``num_bins`` is a power of two too, the factor is a power of two and the product is exact. When a batch brings a larger
value, ``R`` doubles (once or several times) and each pair of neighbouring bins merges into one, which is
exactly where the old values would have landed in the new, twice-as-wide bins. Hence:

* **streaming equals one-shot, exactly**: the counts after any sequence of batches are identical to the
  counts of one call on all the data concatenated, in any order (tested bit for bit);
* memory is ``num_bins`` int64 counts, independent of the number of batches;
* the price is resolution: the data occupies between ``num_bins/2 + 1`` and ``num_bins`` bins, so a bin is
  up to twice as wide as in TensorRT's histogram, whose 2048 bins span exactly ``[0, max]`` (TensorRT
  can do that because it knows the max before it bins; a single streaming pass cannot without re-binning
  approximately). Use ``num_bins=4096`` to be at least as fine as TensorRT.

The exact largest magnitude and the number of exact zeros are kept too: the max calibrator uses the former,
and the entropy/MSE calibrators use the latter (a zero is exactly representable, so it carries no
information about where amax should be).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import QuantInputError, check_tensor, to_numpy


@dataclass(frozen=True)
class Histogram:
    """Counts of |x| in uniform bins starting at 0: bin ``j`` is ``[edges[j], edges[j+1])``.

    ``amax`` is the exact largest magnitude (at most ``edges[-1]``); ``num_zeros`` how many of the values
    counted in bin 0 are exactly zero.
    """

    counts: np.ndarray
    edges: np.ndarray
    amax: float
    num_zeros: int = 0

    @classmethod
    def from_counts(cls, counts, edges, amax: float | None = None, num_zeros: int = 0) -> "Histogram":
        """Build and validate a histogram from plain arrays (for example another library's histogram).

        ``amax`` defaults to the upper edge of the last non-empty bin.
        """
        c = np.asarray(counts, dtype=np.float64)
        e = np.asarray(edges, dtype=np.float64)
        if c.ndim != 1 or c.size == 0 or e.shape != (c.size + 1,):
            raise QuantInputError(
                f"histogram needs 1-D counts and len(counts)+1 edges, got counts {c.shape} and edges {e.shape}"
            )
        if not (np.all(np.isfinite(c)) and np.all(c >= 0) and np.all(np.isfinite(e))):
            raise QuantInputError("histogram counts must be finite and non-negative and edges finite")
        width = np.diff(e)
        if e[0] != 0 or not np.all(width > 0) or not np.allclose(width, width[0], rtol=1e-3, atol=0):
            raise QuantInputError("histogram edges must start at 0 and be uniformly spaced (a histogram of |x|)")
        if c.sum() == 0:
            raise QuantInputError("histogram is empty (all counts are 0); collect some data first")
        last = int(np.flatnonzero(c)[-1])
        return cls(c, e, float(e[last + 1] if amax is None else amax), int(num_zeros))

    @property
    def width(self) -> float:
        """Width of one bin."""
        return float(self.edges[1] - self.edges[0])

    @property
    def total(self) -> float:
        """Number of values counted."""
        return float(self.counts.sum())

    @property
    def centers(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    def trimmed(self) -> "Histogram":
        """The same histogram without the empty bins above the last non-empty one."""
        nz = np.flatnonzero(self.counts)
        if nz.size == 0:
            return self
        n = int(nz[-1]) + 1
        return Histogram(self.counts[:n], self.edges[: n + 1], self.amax, self.num_zeros)


def _is_power_of_two(n: int) -> bool:
    return n >= 2 and n & (n - 1) == 0


class HistogramCollector:
    """Accumulates a histogram of |x| over batches (see the module docstring for the binning rule).

    >>> c = HistogramCollector(num_bins=2048)
    >>> for batch in batches:          # doctest: +SKIP
    ...     c.update(batch)            # NumPy array or torch tensor, any shape
    >>> hist = c.histogram()           # doctest: +SKIP
    """

    def __init__(self, num_bins: int = 2048):
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or not _is_power_of_two(int(num_bins)):
            raise QuantInputError(f"num_bins must be a power of two >= 2 (e.g. 2048), got {num_bins!r}")
        self.num_bins = int(num_bins)
        self.counts = np.zeros(self.num_bins, dtype=np.int64)
        self.range_max = 0.0  # R: a power of two above every |x| seen; 0 while only zeros were seen
        self.amax = 0.0
        self.num_values = 0
        self.num_zeros = 0
        self.num_batches = 0

    def __repr__(self) -> str:
        return (f"HistogramCollector(num_bins={self.num_bins}, values={self.num_values}, "
                f"amax={self.amax:.6g}, range=[0, {self.range_max:.6g}))")

    def _grow_to(self, new_range: float) -> None:
        """Double the range until it equals ``new_range``, merging neighbouring bins each time."""
        while self.range_max < new_range:
            self.counts = np.concatenate(
                [self.counts.reshape(-1, 2).sum(axis=1), np.zeros(self.num_bins // 2, dtype=np.int64)]
            )
            self.range_max *= 2.0

    def update(self, x) -> "HistogramCollector":
        """Add the magnitudes of all values of ``x`` (NumPy array or torch tensor). Returns ``self``."""
        arr = to_numpy(x, "batch")
        if arr.size == 0:
            check_tensor(arr, "batch")  # raises the one-line "empty" error
        a = np.abs(arr).ravel()  # a new array in the input's precision (float32 stays float32)
        batch_max = float(a.max())
        if not np.isfinite(batch_max):  # NaN propagates through max, and Inf is the max
            check_tensor(arr, "batch")  # raises the one-line error with the count of bad values
        zeros = a.size - int(np.count_nonzero(a))
        if batch_max > 0:
            # frexp gives batch_max = m * 2**e with 0.5 <= m < 1, so 2**e is the smallest power of two
            # strictly above batch_max.
            needed = float(np.ldexp(1.0, int(np.frexp(batch_max)[1])))
            if self.range_max == 0.0:
                self.range_max = needed  # until now only zeros, which sit in bin 0 for any range
            else:
                self._grow_to(needed)
            self.counts += np.bincount(self._bin_index(a), minlength=self.num_bins)
        else:
            self.counts[0] += a.size
        self.amax = max(self.amax, batch_max)
        self.num_values += a.size
        self.num_zeros += zeros
        self.num_batches += 1
        return self

    def _bin_index(self, a: np.ndarray) -> np.ndarray:
        """floor(a / R * num_bins) for non-negative ``a``, computed exactly (overwrites ``a``).

        ``num_bins / R`` is a power of two, so multiplying by it only shifts the exponent: exact whenever
        the factor itself is representable in a's precision (otherwise the product is done in float64).
        Results below 1 may lose bits as subnormals, but their floor is 0 either way. For non-negative
        values, the cast to int truncates, which is the floor.
        """
        factor = self.num_bins / self.range_max
        info = np.finfo(a.dtype)
        if not (float(info.smallest_normal) <= factor <= float(info.max)):
            a = a.astype(np.float64)
        np.multiply(a, a.dtype.type(factor), out=a)
        return a.astype(np.intp)

    def merge(self, other: "HistogramCollector") -> "HistogramCollector":
        """Add another collector's counts (e.g. from another worker); exact, like streaming."""
        if not isinstance(other, HistogramCollector) or other.num_bins != self.num_bins:
            raise QuantInputError("can only merge a HistogramCollector with the same num_bins")
        if other.range_max > self.range_max:
            if self.range_max == 0.0:
                self.range_max = other.range_max
            else:
                self._grow_to(other.range_max)
        counts = other.counts
        r = other.range_max
        while 0 < r < self.range_max:
            counts = np.concatenate([counts.reshape(-1, 2).sum(axis=1), np.zeros(self.num_bins // 2, np.int64)])
            r *= 2.0
        self.counts = self.counts + counts
        self.amax = max(self.amax, other.amax)
        self.num_values += other.num_values
        self.num_zeros += other.num_zeros
        self.num_batches += other.num_batches
        return self

    def histogram(self) -> Histogram:
        """The collected :class:`Histogram` (a copy); raises if nothing non-zero was collected."""
        if self.num_values == 0:
            raise QuantInputError("no data collected yet; call update() with at least one batch")
        if self.range_max == 0.0:
            raise QuantInputError(
                f"all {self.num_values} collected values are zero, so there is no range to calibrate; "
                f"leave this tensor unquantized"
            )
        edges = np.arange(self.num_bins + 1, dtype=np.float64) * (self.range_max / self.num_bins)
        return Histogram(self.counts.astype(np.float64), edges, self.amax, self.num_zeros)

    # --- Plain-data state, for JSON/NumPy caches (never pickles) ---------------------------------------

    def state_dict(self) -> dict:
        """Everything needed to rebuild the collector, as plain numbers and a list."""
        return {
            "num_bins": self.num_bins,
            "range_max": self.range_max,
            "amax": self.amax,
            "num_values": self.num_values,
            "num_zeros": self.num_zeros,
            "num_batches": self.num_batches,
            "counts": self.counts.tolist(),
        }

    @classmethod
    def from_state_dict(cls, state: dict) -> "HistogramCollector":
        """Inverse of :meth:`state_dict`, with the invariants checked."""
        try:
            c = cls(int(state["num_bins"]))
            counts = np.asarray(state["counts"], dtype=np.int64)
            c.range_max = float(state["range_max"])
            c.amax = float(state["amax"])
            c.num_values = int(state["num_values"])
            c.num_zeros = int(state["num_zeros"])
            c.num_batches = int(state["num_batches"])
        except (KeyError, TypeError, ValueError) as exc:
            raise QuantInputError(f"not a HistogramCollector state ({exc.__class__.__name__}: {exc}); recollect it") from None
        ok = (
            counts.shape == (c.num_bins,) and np.all(counts >= 0) and int(counts.sum()) == c.num_values
            and 0 <= c.num_zeros <= c.num_values and np.isfinite(c.amax)
            and (c.range_max == 0.0 and c.amax == 0.0 or (c.amax < c.range_max and np.frexp(c.range_max)[0] == 0.5))
        )
        if not ok:
            raise QuantInputError("HistogramCollector state is inconsistent (counts, range or amax); recollect it")
        c.counts = counts
        return c


def histogram_of(x, num_bins: int = 2048) -> Histogram:
    """One-shot histogram of |x|; identical to streaming ``x`` in any split through a collector."""
    return HistogramCollector(num_bins).update(x).histogram()
