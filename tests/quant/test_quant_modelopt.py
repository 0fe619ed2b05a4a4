"""Cross-checks of demos.quant's calibrators against ModelOpt's torch calibrators on the same data.

Version under test: nvidia-modelopt 0.47.0 (``modelopt.torch.quantization.calib``). Two of its problems are
asserted here, so that an upgrade that fixes or changes them makes a test fail and this file gets revisited:

1. ``HistogramCalibrator.compute_amax`` takes the method as a *required positional* argument, but
   ``mtq.quantize`` with ``"calibrator": "histogram"`` and the default algorithm (``"max"``) finishes
   calibration by calling ``compute_amax()`` without it: ``TypeError: ... missing 1 required positional
   argument: 'method'``. The call that works: put the quantizers in calibration mode
   (``mtq.quantize(model, cfg, forward_loop=None)`` with ``"algorithm": None``, then
   ``model_calib.enable_stats_collection(model)``), run the data through the model, then for each
   quantizer ``quantizer.load_calib_amax("entropy")`` or ``load_calib_amax("percentile", percentile=...)``
   (which calls ``HistogramCalibrator.compute_amax(method, ...)``), then ``enable_quant()`` and
   ``disable_calib()``.
2. The histogram ``"mse"`` method calls ``fake_tensor_quant(centers, amax, num_bits, unsigned)``, which
   puts ``num_bits`` into the ``bias`` parameter and ``unsigned`` (False) into ``num_bits``: the result is
   not an INT8 MSE optimum (about 0.3 for N(0, 1) data, where the optimum is about 3.9). The comparison
   below patches that one call to pass its arguments by name, and keeps the rest of ModelOpt's algorithm.

ModelOpt is imported once per module (about 6 s); its entropy search is a pure-Python double loop
(several seconds per 2048-bin histogram), so it runs twice here.
"""

import copy

import numpy as np
import pytest
import torch

from demos.quant import (
    Histogram,
    HistogramCollector,
    calibrate,
    entropy_amax,
    fake_quantize,
    histogram_of,
    mse_amax,
    per_channel_max,
    percentile_amax,
    quantize,
)
from demos.quant.collect import collect_activations

mtq = pytest.importorskip("modelopt.torch.quantization")
from modelopt.torch.quantization import model_calib  # noqa: E402
from modelopt.torch.quantization.calib import HistogramCalibrator, MaxCalibrator  # noqa: E402
from modelopt.torch.quantization.calib import histogram as mo_histogram  # noqa: E402
from modelopt.torch.quantization.calib.mse import MseCalibrator  # noqa: E402
from modelopt.torch.quantization.nn import TensorQuantizer  # noqa: E402
from modelopt.torch.quantization.tensor_quant import fake_tensor_quant  # noqa: E402

RNG = np.random.default_rng(11)


def _batches(x, parts=4):
    """Split ``x`` into batches, the first one holding the largest magnitude.

    ModelOpt sizes its bins from the first batch and appends bins of the same width when a later batch
    goes beyond; its entropy and MSE searches are quadratic in the bin count (seconds to minutes), so
    the tests keep its histogram at exactly ``num_bins`` bins this way.
    """
    x = x.copy()
    flat = x.reshape(-1)
    top = int(np.argmax(np.abs(flat)))
    flat[[0, top]] = flat[[top, 0]]
    return [torch.from_numpy(p) for p in np.array_split(x, parts)]


def _modelopt_histogram(batches, num_bins=2048):
    cal = HistogramCalibrator(num_bits=8, num_bins=num_bins)
    for b in batches:
        cal.collect(b)
    return cal


def _as_ours(cal) -> Histogram:
    """ModelOpt's collected histogram as a demos.quant Histogram (its edges are float32 linspace)."""
    return Histogram.from_counts(cal._calib_hist.double().numpy(), cal._calib_bin_edges.double().numpy())


@pytest.fixture
def fixed_mse(monkeypatch):
    """ModelOpt's histogram MSE with finding 2 fixed: the same quantizer call, arguments by name."""
    monkeypatch.setattr(
        mo_histogram, "fake_tensor_quant",
        lambda x, amax, num_bits, unsigned: fake_tensor_quant(x, amax, None, num_bits, unsigned),
    )


def test_max_calibrator_agrees_exactly():
    x = RNG.standard_normal((64, 3, 5, 5)).astype(np.float32)
    mo = MaxCalibrator(num_bits=8)
    ours = HistogramCollector()
    for b in _batches(x):
        mo.collect(b)
        ours.update(b)
    assert calibrate(ours, "max") == float(mo.compute_amax())
    # Per channel (axis 0, as for conv weights).
    mo_pc = MaxCalibrator(num_bits=8, axis=0)
    mo_pc.collect(torch.from_numpy(x))
    np.testing.assert_array_equal(per_channel_max(x, axis=0), mo_pc.compute_amax().numpy().ravel())


def test_histogram_calibrator_default_call_raises_typeerror():
    """Finding 1: the call ``mtq`` makes fails; passing the method positionally works."""
    cal = _modelopt_histogram(_batches(RNG.standard_normal(10_000).astype(np.float32)))
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'method'"):
        cal.compute_amax()
    assert cal.compute_amax("percentile", percentile=99.9) > 0


def test_entropy_is_the_same_algorithm_on_the_same_histogram():
    """Fed ModelOpt's own histogram, our entropy search picks the same amax as ModelOpt's.

    ReLU data: ModelOpt replaces bin 0 by bin 1 (its way to ignore the zero spike); we apply the same
    replacement and switch our own zero handling off, so both run the plain algorithm on identical counts.
    Tolerance: 1e-3 of a bin, because ModelOpt's edges are float32 and ours float64. 1024 bins keep
    ModelOpt's quadratic-time Python loop short; the algorithm is the same for any bin count.
    """
    x = np.maximum(RNG.standard_normal(100_000), 0).astype(np.float32)
    cal = _modelopt_histogram(_batches(x), num_bins=1024)
    h = _as_ours(cal)
    counts = h.counts.copy()
    counts[0] = counts[1]
    ours = entropy_amax(Histogram.from_counts(counts, h.edges), exclude_zeros=False)
    assert abs(ours - float(cal.compute_amax("entropy"))) <= 1e-3 * h.width


def test_percentile_and_mse_on_the_same_histogram(fixed_mse):
    """Same histogram, deliberate differences:

    * percentile: ModelOpt returns the lower edge of the bin where the cumulative count crosses the
      target; we interpolate inside that bin, so ours - ModelOpt lies in [0, 1] bin;
    * mse: ModelOpt's candidates are bin centres and it evaluates the error at bin centres; ours are bin
      edges with the error integrated over each bin. The error curve is flat near its minimum, so the
      picks can be tens of bins apart (measured: up to 23 bins, 1.3 % of amax, over three seeds of
      Gaussian and Laplace data); what must agree is the error they achieve: the MSE of the data at our
      amax is at most 0.1 % above the MSE at ModelOpt's (measured: at most +0.01 %, often below). With
      coarse histograms (256 bins) the centre approximation is worse and ours is better by 5-20 %.
    """
    x = RNG.laplace(size=150_000).astype(np.float32)
    cal = _modelopt_histogram(_batches(x))
    h = _as_ours(cal)
    assert h.counts.size == 2048
    diff = percentile_amax(h, 99.9) - float(cal.compute_amax("percentile", percentile=99.9))
    assert -1e-6 * h.width <= diff <= h.width * (1 + 1e-6)
    ours, theirs = mse_amax(h), float(cal.compute_amax("mse"))
    assert abs(ours - theirs) <= 0.02 * theirs
    assert _data_mse(x, ours) <= 1.001 * _data_mse(x, theirs)


def _data_mse(x, amax):
    return float(np.mean((x - fake_quantize(x, amax)) ** 2))


def test_modelopt_mse_without_the_fix_is_not_an_int8_optimum():
    """Finding 2, measured: the unpatched call returns an amax far below any sensible INT8 choice."""
    x = RNG.standard_normal(50_000).astype(np.float32)
    cal = _modelopt_histogram(_batches(x))
    assert float(cal.compute_amax("mse")) < 0.2 * mse_amax(histogram_of(x))  # measured: 0.3 against 3.9


@pytest.mark.slow
def test_end_to_end_each_with_its_own_histogram(fixed_mse):
    """Each library collects its own histogram of the same four batches, then calibrates.

    The grids differ: ModelOpt's bins have the width max(first batch)/2048 and grow in number; ours are
    2048 bins over the power of two above the max (here 8, width 1/256). Tolerances follow from that:
    * percentile: each is within one of its own bins of the sample quantile -> |diff| <= both widths;
    * entropy: both take a bin edge of their own grid near a flat KL minimum -> |diff| <= 2 coarse bins
      (measured here: under a tenth of a bin);
    * mse: the error curve is flat near its minimum, so the *error achieved* is compared: the MSE of the
      data at our amax is within 0.5 % of the MSE at ModelOpt's, and of ModelOpt's data-driven
      ``MseCalibrator`` (brute force over amax = 0.05 ... 1.0 x max in steps of 0.01 x max).
    """
    x = RNG.standard_normal(120_000).astype(np.float32)
    batches = _batches(x)
    cal = _modelopt_histogram(batches)
    ours = HistogramCollector()
    for b in batches:
        ours.update(b)
    h = ours.histogram()
    w_mo = float(cal._calib_bin_edges[1] - cal._calib_bin_edges[0])
    coarse = max(h.width, w_mo)

    p_ours, p_mo = percentile_amax(h, 99.99), float(cal.compute_amax("percentile", percentile=99.99))
    assert abs(p_ours - p_mo) <= h.width + w_mo

    e_ours, e_mo = entropy_amax(h), float(cal.compute_amax("entropy"))
    assert abs(e_ours - e_mo) <= 2 * coarse

    m_ours, m_mo = mse_amax(h), float(cal.compute_amax("mse"))
    brute = MseCalibrator(
        amax=torch.tensor(float(np.abs(x).max())), start_multiplier=0.05, stop_multiplier=1.0, step_size=0.01,
        quant_func=lambda t, a: fake_tensor_quant(t, a, None, 8, False, True),
    )
    for b in batches:
        brute.collect(b)
    m_brute = float(brute.compute_amax())
    assert _data_mse(x, m_ours) <= 1.005 * min(_data_mse(x, m_mo), _data_mse(x, m_brute))


def test_mtq_flow_and_collect_activations_agree():
    """The working ModelOpt route of finding 1 on a small conv net, against collect_activations.

    ModelOpt's quantizer of ``1`` (the second conv) sees the ReLU output, as our input hook does.
    Percentile 99.9 on the same batches; tolerance: one bin of each grid.
    """
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 4, 3))
    data = [torch.randn(4, 3, 16, 16) for _ in range(3)]

    def forward_loop(model):
        for d in data:
            model(d)

    cfg = {
        "quant_cfg": [
            {"quantizer_name": "*", "enable": False},
            {"quantizer_name": "*input_quantizer", "cfg": {"num_bits": 8, "axis": None, "calibrator": "histogram"}},
        ],
        "algorithm": "max",
    }
    with pytest.raises(TypeError, match="required positional argument: 'method'"):
        mtq.quantize(copy.deepcopy(net), cfg, forward_loop)

    qnet = mtq.quantize(copy.deepcopy(net), dict(cfg, algorithm=None), None)
    model_calib.enable_stats_collection(qnet)
    forward_loop(qnet)
    mo_amax, mo_width = {}, {}
    for name, module in qnet.named_modules():
        if isinstance(module, TensorQuantizer) and not module._disabled:
            module.load_calib_amax("percentile", percentile=99.9)
            edges = module._calibrator._calib_bin_edges
            mo_width[name.split(".")[0]] = float(edges[1] - edges[0])
            mo_amax[name.split(".")[0]] = float(module.amax)
            module.enable_quant()
            module.disable_calib()

    ours = collect_activations(net, data)
    assert set(ours) == set(mo_amax) == {"0", "2"}
    for layer, collector in ours.items():
        h = collector.histogram()
        assert abs(percentile_amax(h, 99.9) - mo_amax[layer]) <= h.width + mo_width[layer]


@pytest.mark.parametrize("pass_through", [None, True, False])
def test_quantizer_gradient_is_a_straight_through_estimator(pass_through):
    """What the fake-quantization gallery page says about ModelOpt's backward pass.

    Default (``pass_through_bwd`` not set, True in 0.47): the plain STE, gradient 1 everywhere, clipped
    values included. ``pass_through_bwd=False``: gradient 1 where ``|x| <= amax``, 0 beyond; the forward
    is the same INT8 grid (narrow range) as ``demos.quant.fake_quantize`` either way.
    """
    from modelopt.torch.quantization.config import QuantizerAttributeConfig

    attrs = {"num_bits": 8, "axis": None, "narrow_range": True}
    if pass_through is not None:
        attrs["pass_through_bwd"] = pass_through
    quantizer = TensorQuantizer(QuantizerAttributeConfig(**attrs), amax=1.0)
    x = torch.linspace(-1.5, 1.5, 3001, requires_grad=True)
    y = quantizer(x)
    y.sum().backward()
    ours = fake_quantize(x.detach().numpy(), 1.0)
    # The same codes; ModelOpt dequantizes as q / (127 / amax), we as q * (amax / 127): 1 ulp apart at most.
    np.testing.assert_array_equal(np.rint(y.detach().numpy() * 127), np.rint(ours * 127))
    np.testing.assert_allclose(y.detach().numpy(), ours, rtol=2**-23, atol=0)
    expected = torch.ones_like(x) if pass_through in (None, True) else (x.detach().abs() <= 1.0).float()
    assert torch.equal(x.grad, expected)


def test_default_int8_quantizer_uses_the_full_range():
    """What the quantization-math page says: ModelOpt's INT8 ``TensorQuantizer`` clamps to [-128, 127] by
    default (``narrow_range`` is False in 0.47), like TensorRT's IQuantizeLayer and ONNX QuantizeLinear, and
    ``narrow_range=True`` gives [-127, 127], ``demos.quant``'s default. The two differ only below -amax."""
    from modelopt.torch.quantization.config import QuantizerAttributeConfig

    x = torch.linspace(-1.5, 1.5, 3001)
    default = TensorQuantizer(QuantizerAttributeConfig(num_bits=8, axis=None), amax=1.0)
    narrow = TensorQuantizer(QuantizerAttributeConfig(num_bits=8, axis=None, narrow_range=True), amax=1.0)
    assert not default.narrow_range
    codes = {name: np.rint(q(x).numpy() * 127).astype(np.int64) for name, q in (("full", default), ("narrow", narrow))}
    assert codes["full"].min() == -128 and codes["narrow"].min() == -127
    np.testing.assert_array_equal(codes["full"], quantize(x.numpy(), 1 / 127, narrow_range=False))
    np.testing.assert_array_equal(codes["narrow"], quantize(x.numpy(), 1 / 127))
    assert np.array_equal(codes["full"] != codes["narrow"], x.numpy() < -127.5 / 127)
