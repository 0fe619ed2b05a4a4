r"""
Quantization math: scale, rounding and clipping
===============================================

TensorRT quantizes a tensor to INT8 with one number, the scale :math:`s`, derived from the largest
magnitude to keep, :math:`\mathrm{amax}`:

.. math::

    s = \frac{\mathrm{amax}}{127}, \qquad
    q = \mathrm{clip}\big(\mathrm{round}(x / s), -128, 127\big), \qquad
    \hat{x} = s \, q .

There is no zero point: the quantization is *symmetric*, and 0.0 is always the code 0.
``round`` rounds half to even, as ONNX ``QuantizeLinear`` does.
The clip is to the full INT8 range, as in TensorRT's ``IQuantizeLayer`` and ONNX ``QuantizeLinear``, but
with :math:`s = \mathrm{amax}/127` every value inside :math:`[-\mathrm{amax}, \mathrm{amax}]` gets a code
between -127 and 127: only values below :math:`-127.5\,s`, beyond :math:`-\mathrm{amax}`, reach -128.
Quantizers with a *narrow* range clip to :math:`[-127, 127]` instead, so that the codes are symmetric too
(``narrow_range=True`` in ModelOpt's quantizer configuration, whose default is the full range).
``demos.quant`` uses the narrow range by default, and so does this page; the two differ only in whether a
negative value beyond amax comes back as :math:`-\mathrm{amax}` or as :math:`-128\,s`, a step further.
This page follows a tensor through these formulas with ``demos.quant``, measures the two errors they
introduce (rounding inside the range, clipping outside), compares one scale per tensor with one per
channel on real weights, and explains why TensorRT quantizes symmetrically.

Model and data: EfficientNet-Lite0 with its ImageNet weights and real photographs (each output below
names them).
"""

# %%
# From amax to codes and back
# ---------------------------
# Six numbers, amax = 2: the step between two codes is :math:`s = 2/127 \approx 0.0157`.
# Every value inside [-2, 2] comes back within half a step; 2.5 lies outside and is clipped to 2.

import datetime

import matplotlib.pyplot as plt
import numpy as np
import torch

from demos import provenance, samples
from demos.quant import (
    calibrate,
    dequantize,
    error_breakdown,
    fake_quantize,
    histogram_of,
    per_channel_max,
    quantize,
    scale_from_amax,
)

x = np.array([-1.7, -0.2, 0.0, 0.05, 0.6, 2.5], dtype=np.float32)
scale = scale_from_amax(2.0)
q = quantize(x, scale)
x_hat = dequantize(q, scale)
print(f"scale = {scale:.6f}")
for xi, qi, xh in zip(x, q, x_hat):
    print(f"x = {xi:6.3f}  ->  q = {qi:4d}  ->  x_hat = {xh:8.5f}   error {xh - xi:+.5f}")

# %%
# A real activation tensor
# ------------------------
# The input of ``blocks.5.0.conv_pw`` (a 1x1 convolution in the sixth stage) on 16 images.
# A forward hook copies it out; the model itself is untouched.

model = samples.efficientnet_lite0()
images = samples.sample_images(16, model.preprocess)
print("model:", model.source)
print("images:", images.source)
versions = provenance.versions()
print(f"computed on {provenance.cpu_model()}, torch {versions['torch']}, numpy {versions['numpy']}, "
      f"{datetime.date.today().isoformat()}")

layer = dict(model.module.named_modules())["blocks.5.0.conv_pw"]
captured = []
handle = layer.register_forward_pre_hook(lambda module, args: captured.append(args[0].detach().clone()))
with torch.inference_mode():
    model.module(torch.from_numpy(images.array))
handle.remove()
act = captured[0].numpy()
amax_max = float(np.abs(act).max())
print(f"tensor {tuple(act.shape)}: {act.size} values, max |x| = {amax_max:.3f}, "
      f"99.99th percentile of |x| = {np.percentile(np.abs(act), 99.99):.3f}")

# %%
# Rounding error is bounded, clipping error is not
# ------------------------------------------------
# With amax at the 99.99th percentile, the plot shows the error of every value against the value.
# Inside the range it is a saw tooth between :math:`-s/2` and :math:`s/2`; beyond amax it grows linearly,
# since every larger value comes back as amax.

hist = histogram_of(act)
amax_p = calibrate(hist, "percentile", percentile=99.99)
s_p = scale_from_amax(amax_p)
err = fake_quantize(act, amax_p) - act
inside = np.abs(act) <= amax_p
print(f"amax = {amax_p:.3f}, scale = {s_p:.5f}: largest |error| inside the range {np.abs(err[inside]).max():.5f} "
      f"(s/2 = {s_p / 2:.5f}), outside {np.abs(err[~inside]).max():.3f} ({np.count_nonzero(~inside)} values)")

rng = np.random.default_rng(0)
shown = rng.choice(act.size, 40_000, replace=False)
outside = np.flatnonzero(~inside.ravel())
fig, (ax_zoom, ax_full) = plt.subplots(1, 2, figsize=(9, 4), gridspec_kw={"width_ratios": [1, 1.4]})
near = shown[np.abs(act.ravel()[shown]) < 4 * s_p]
ax_zoom.scatter(act.ravel()[near], err.ravel()[near], s=2)
for bound in (-s_p / 2, s_p / 2):
    ax_zoom.axhline(bound, color="gray", linestyle=":", linewidth=1)
ax_zoom.set_xlabel("x (values within 4 steps of 0)")
ax_zoom.set_ylabel("dequantized - x")
ax_zoom.set_title("inside: |error| <= s/2", fontsize=10)
ax_full.scatter(act.ravel()[shown], err.ravel()[shown], s=1, alpha=0.4)
ax_full.scatter(act.ravel()[outside], err.ravel()[outside], s=6, color="#d62728", label="clipped values (all)")
for sign in (-1, 1):
    ax_full.axvline(sign * amax_p, color="gray", linestyle="--", linewidth=1)
ax_full.set_xlabel("x")
ax_full.set_title("all values: clipping error grows past amax", fontsize=10)
ax_full.legend(loc="upper right", fontsize=8)
fig.suptitle("INT8 error per value, amax = 99.99th percentile (blocks.5.0.conv_pw input)")
fig.tight_layout()

# %%
# The trade-off
# -------------
# A smaller amax means a finer step, so less rounding error for the many values inside the range, and more
# clipping error for the few outside.
# Sweeping amax over the tensor and splitting the mean squared error into its two parts
# (``demos.quant.error_breakdown``) shows the trade-off, and where the calibrators of the next page land.

amaxes = np.linspace(0.15, 1.0, 120) * amax_max
parts = [error_breakdown(act, a) for a in amaxes]
rounding = np.array([p["rounding"] for p in parts])
clipping = np.array([p["clipping"] for p in parts])
total = rounding + clipping
best = amaxes[int(np.argmin(total))]

fig, ax = plt.subplots(figsize=(8, 4.5))
ax.semilogy(amaxes, rounding, label="rounding (inside [-amax, amax])")
ax.semilogy(amaxes, np.where(clipping > 0, clipping, np.nan), label="clipping (outside)")
ax.semilogy(amaxes, total, color="black", linewidth=2, label="total")
picks = {method: calibrate(hist, method) for method in ("max", "percentile", "entropy", "mse")}
for (method, a), color in zip(picks.items(), ["#9467bd", "#8c564b", "#e377c2", "#17becf"]):
    ax.axvline(a, color=color, linestyle="--", linewidth=1, label=f"{method}: {a:.2f}")
ax.set_xlabel("amax")
ax.set_ylabel("mean squared error")
ax.set_title("Rounding against clipping error (blocks.5.0.conv_pw input, EfficientNet-Lite0)")
ax.legend(fontsize=8)
fig.tight_layout()
print(f"minimum of the swept total: amax = {best:.3f}, MSE {total.min():.3e}")
for method, a in picks.items():
    print(f"{method:>10}: amax {a:7.3f}, MSE {error_breakdown(act, a)['total']:.3e}")

# %%
# Rounding error grows with the square of the step, hence with the square of amax; clipping error falls
# steeply as amax passes the last values, and is zero beyond the largest one.
# ``max`` never clips and pays with the coarsest step; the calibrators that look at the histogram accept a
# little clipping for a finer step everywhere else.
#
# One scale per tensor or one per channel
# ---------------------------------------
# Weights are known in advance, and TensorRT accepts one weight scale per output channel of a
# convolution (``axis=0``), which is what ModelOpt's INT8 recipes produce. That matters when channels
# differ in size.
# An inference engine folds each BatchNorm into the convolution before it
# (:math:`w' = w \cdot \gamma / \sqrt{\sigma^2 + \epsilon}` per output channel), so the weights are folded
# here too before they are quantized; folding multiplies every channel by a different factor.


def folded_conv_weights(module):
    """(name, BN-folded weight, is_depthwise) for each Conv2d followed by its BatchNorm."""
    convs = []
    pending = None
    for name, m in module.named_modules():
        if isinstance(m, torch.nn.Conv2d):
            pending = (name, m)
        elif isinstance(m, torch.nn.BatchNorm2d) and pending is not None:
            conv_name, conv = pending
            if m.num_features == conv.out_channels:
                factor = (m.weight / torch.sqrt(m.running_var + m.eps)).detach()
                w = conv.weight.detach() * factor[:, None, None, None]
                depthwise = conv.groups > 1 and conv.groups == conv.in_channels
                convs.append((conv_name, w.numpy(), depthwise))
            pending = None
    return convs


def sqnr_db(x, x_hat):
    """Signal-to-quantization-noise ratio: 10 log10(sum x^2 / sum (x - x_hat)^2)."""
    return 10 * np.log10(np.sum(x.astype(np.float64) ** 2) / np.sum((x - x_hat).astype(np.float64) ** 2))


rows = []
for name, w, depthwise in folded_conv_weights(model.module):
    per_tensor = sqnr_db(w, fake_quantize(w, float(np.abs(w).max())))
    per_channel = sqnr_db(w, fake_quantize(w, per_channel_max(w, axis=0, allow_zero=True).clip(1e-12), axis=0))
    spread = per_channel_max(w, axis=0, allow_zero=True)
    rows.append((name, depthwise, per_tensor, per_channel, spread.max() / np.median(spread)))

fig, ax = plt.subplots(figsize=(8, 4.5))
idx = np.arange(len(rows))
dw = np.array([r[1] for r in rows])
for values, label, marker in (([r[2] for r in rows], "per tensor", "o"), ([r[3] for r in rows], "per channel", "s")):
    values = np.array(values)
    ax.plot(idx[~dw], values[~dw], marker, markersize=4, label=f"{label}, regular conv")
    ax.plot(idx[dw], values[dw], marker, markersize=6, markerfacecolor="none", label=f"{label}, depthwise conv")
ax.set_xlabel("convolution (in network order)")
ax.set_ylabel("SQNR of INT8 weights [dB] (higher is better)")
ax.set_title("Per-tensor vs per-channel INT8 weights, EfficientNet-Lite0 (BatchNorm folded)")
ax.legend(fontsize=8, ncol=2)
fig.tight_layout()

worst = sorted(rows, key=lambda r: r[2])[:5]
print(f"{len(rows)} convolutions, {int(dw.sum())} of them depthwise")
print(f"median SQNR per tensor {np.median([r[2] for r in rows]):.1f} dB, per channel {np.median([r[3] for r in rows]):.1f} dB")
print("lowest per-tensor SQNR:")
for name, depthwise, pt, pc, ratio in worst:
    print(f"  {name:<24} {'depthwise' if depthwise else 'regular':>9}: per tensor {pt:5.1f} dB, "
          f"per channel {pc:5.1f} dB, largest channel amax / median {ratio:5.1f}")

# %%
# When one channel's weights are many times larger than the typical channel's, a shared scale leaves the
# typical channel only a fraction of the codes.
# Depthwise convolutions, with few weights per channel and folded BatchNorm factors that vary widely,
# suffer most; per-channel scales fix them at no run-time cost, since the scale of an output channel can be
# applied after the integer dot product.
# Activations get one scale per tensor: their channels mix in the next layer's sum, and a per-channel
# activation scale would have to be applied before it.
#
# Symmetric or asymmetric
# -----------------------
# An *asymmetric* (affine) quantizer maps [min, max] onto the codes 0..255 with a zero point :math:`z`:
# :math:`q = \mathrm{round}(x/s) + z`.
# For a tensor that is never negative, such as a ReLU6 output, symmetric INT8 leaves the negative codes
# unused, so its step is twice as large as that of an unsigned 8-bit quantizer over the same range.

relu6_out = []
first_pw = model.module.blocks[0][0].conv_pw
handle = first_pw.register_forward_pre_hook(lambda module, args: relu6_out.append(args[0].detach().clone()))
with torch.inference_mode():
    model.module(torch.from_numpy(images.array[:4]))
handle.remove()


def asymmetric_uint8(x):
    """Affine UINT8 quantization of x over [min(x, 0), max(x, 0)] (the ONNX Runtime CPU convention).

    Returns the dequantized values, the codes 0..255, the scale and the zero point.
    """
    lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    s = (hi - lo) / 255
    z = int(np.rint(-lo / s))
    q = np.clip(np.rint(x / s) + z, 0, 255)
    return (q - z) * s, q.astype(np.int64), s, z


for label, t in (("ReLU6 output (input of blocks.0.0.conv_pw)", relu6_out[0].numpy()),
                 ("signed tensor (input of blocks.5.0.conv_pw)", act)):
    sym = fake_quantize(t, float(np.abs(t).max()))
    asym, _, s_a, z = asymmetric_uint8(t)
    print(f"{label}: min {t.min():.3f}, max {t.max():.3f}")
    print(f"   symmetric INT8  SQNR {sqnr_db(t, sym):5.1f} dB  (step {np.abs(t).max() / 127:.5f})")
    print(f"   asymmetric UINT8 SQNR {sqnr_db(t, asym):5.1f} dB  (step {s_a:.5f}, zero point {z})")

# %%
# For the ReLU6 output the asymmetric quantizer gains about 6 dB, one bit; for the signed tensor it gains
# only what the difference between its negative and positive extremes allows.
# TensorRT nevertheless quantizes symmetrically only: the zero points of its INT8 Q/DQ nodes must be 0.
# The reason is the integer arithmetic. With zero points :math:`z_a` (activations) and :math:`z_w`
# (weights), a dot product of length :math:`K` becomes
#
# .. math::
#
#     \sum_k (q_{a,k} - z_a)(q_{w,k} - z_w) = \sum_k q_{a,k} q_{w,k} - z_w \sum_k q_{a,k}
#     - z_a \sum_k q_{w,k} + K z_a z_w .
#
# With symmetric quantization only the first term remains: an INT8 tensor-core product followed by one
# multiplication by :math:`s_a s_w`.
# A zero point on the activations adds the term :math:`-z_a \sum_k q_{w,k}`, which is constant per output channel and
# can be folded into the bias; that is the form CPU libraries such as ONNX Runtime use (unsigned activations,
# signed weights).
# A zero point on the weights adds :math:`-z_w \sum_k q_{a,k}`, a sum over the activations that must be computed
# at run time for every output position.
# Zero points also make padding and fusions such as residual additions harder, because 0.0 is no longer
# the code 0.
# The identity is checked below on the real 1x1 convolution ``blocks.5.0.conv_pw``, with integer arithmetic.

w_pw = layer.weight.detach().numpy()[:, :, 0, 0]  # [out, in]
a_rows = act.transpose(0, 2, 3, 1).reshape(-1, act.shape[1])[:512]  # 512 pixels x in-channels
_, qa, s_a, z_a = asymmetric_uint8(a_rows)  # UINT8 codes and their zero point
s_w = scale_from_amax(per_channel_max(w_pw, axis=0), "int8")
qw = quantize(w_pw, s_w, axis=0).astype(np.int64)  # symmetric INT8 codes, one scale per output channel
direct = (qa - z_a) @ qw.T
expanded = qa @ qw.T - z_a * qw.sum(axis=1)[None, :]  # the activation zero point as a per-channel bias
print(f"integer results equal: {np.array_equal(direct, expanded)}; "
      f"largest |accumulator| {np.abs(direct).max()} (INT32 holds {np.iinfo(np.int32).max})")
y = direct * (s_a * s_w)[None, :]
y_ref = a_rows @ w_pw.T
print(f"relative error of the quantized 1x1 convolution: {np.linalg.norm(y - y_ref) / np.linalg.norm(y_ref):.2e}")
