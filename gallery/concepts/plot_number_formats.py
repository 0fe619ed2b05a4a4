"""
Number formats: what each precision can represent
==================================================

Inference runs in many precisions: FP32 and TF32 on the way in, FP16 and BF16 for most layers, FP8 and INT8
where speed matters most, INT4 for weights of large models.
This page reads the facts of each format from the number types themselves (NumPy and ``ml_dtypes``),
draws where their values lie, compares the two 16-bit formats FP16 and BF16, and then shows on a real
network's tensors what goes wrong at the edges: overflow, underflow, and an accumulator that is too narrow.

The tensors come from EfficientNet-Lite0 with its ImageNet weights and from real photographs; each output
below says which model and images it used.
"""

# %%
# The facts, from the types
# -------------------------
# A floating-point number is stored as a sign, an exponent and a fraction (the *mantissa*).
# The exponent bits decide the range, the fraction bits the precision: machine epsilon, the gap between
# 1 and the next number, is :math:`2^{-m}` for :math:`m` fraction bits.
# Below the smallest *normal* number the format continues with *subnormal* numbers, which trade precision
# for range until the smallest subnormal; anything smaller becomes 0.
#
# Integer formats have no exponent: INT8 holds the 256 integers from -128 to 127, evenly spaced.
# A *scale* turns them into real values, which is the subject of the next pages.
#
# TF32 is not a storage type but the format in which tensor cores read FP32 inputs when TF32 math is
# allowed (in TensorRT by ``BuilderFlag.TF32``, which is on by default; in PyTorch by
# ``torch.backends.cuda.matmul.allow_tf32``): FP32's 8 exponent bits with only 10 fraction bits, so it has
# FP32's range and FP16's precision, and the products are still summed in FP32.
# No library has a TF32 type, so its row is derived from FP32's exponent and 10 fraction bits; every other
# row is read from ``finfo``/``iinfo``.

import datetime
import importlib.metadata

import matplotlib.pyplot as plt
import numpy as np
import torch

from demos import provenance, samples
from demos.quant import all_formats, format_info, representable_values

print(f"{'format':<9} {'S/E/M bits':>10} {'max':>11} {'min normal':>11} {'min subnormal':>13} {'epsilon':>9}")
for f in all_formats():
    if f.kind == "float":
        print(f"{f.name:<9} {'/'.join(map(str, f.layout)):>10} {f.max:>11.4g} {f.smallest_normal:>11.4g} "
              f"{f.smallest_subnormal:>13.4g} {f.eps:>9.4g}")
    else:
        print(f"{f.name:<9} {'/'.join(map(str, f.layout)):>10} {f.max:>11.4g}   (integers from {f.min:.0f}, step 1)")

# %%
# Two details in this table are often stated wrongly.
# BF16 is not a variant of FP16: FP16 is E5M10 (5 exponent bits, 10 fraction bits), BF16 is E8M7. BF16
# keeps FP32's exponent, hence FP32's range, and only 7 fraction bits: its 16 bits are laid out like the
# upper half of an FP32 number.
# FP8 E4M3 reaches 448, not 240: the variant used by TensorRT and ONNX (``float8_e4m3fn``) has no
# infinities and uses the top exponent for ordinary numbers, keeping a single NaN pattern per sign.
# E5M2 keeps IEEE-style infinities and trades one fraction bit for a range up to 57344.
#
# Bit layouts
# -----------

fig, ax = plt.subplots(figsize=(8, 3.6))
colors = {"sign": "#d62728", "exponent": "#1f77b4", "fraction": "#2ca02c", "unused": "#dddddd"}
formats = all_formats()
for row, f in enumerate(formats):
    parts = [("sign", f.sign_bits), ("exponent", f.exponent_bits), ("fraction", f.mantissa_bits)]
    if f.name == "tf32":
        parts.append(("unused", 32 - f.bits))  # read from a 32-bit register; the low 13 bits are ignored
    left = 0
    for kind, width in parts:
        if width:
            ax.barh(row, width, left=left, color=colors[kind], edgecolor="white")
            ax.text(left + width / 2, row, str(width), ha="center", va="center", fontsize=8)
            left += width
ax.set_yticks(range(len(formats)), [f.name for f in formats])
ax.invert_yaxis()
ax.set_xlabel("bits (for integers, the value bits are drawn as fraction)")
ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=c) for c in colors.values()], labels=list(colors),
          loc="lower right", fontsize=8)
ax.set_title("Bit layouts, from the types' finfo/iinfo")
fig.tight_layout()

# %%
# Where the numbers lie
# ---------------------
# Between two powers of two a float format has the same number of values, :math:`2^m`; so the gap between
# neighbours grows with the magnitude, while the *relative* gap stays between :math:`2^{-m-1}` and
# :math:`2^{-m}`.
# Every positive finite value of the 8- and 16-bit float formats is enumerated from its bit patterns;
# FP32 and TF32 follow from their epsilon.
# INT8 is drawn with scale 1: its gap is always 1, so its relative gap falls as :math:`1/x`.

fig, ax = plt.subplots(figsize=(8, 4.5))
for name in ("fp16", "bf16", "fp8_e4m3", "fp8_e5m2", "int8"):
    v = representable_values(name)
    v = v[v > 0]
    ax.loglog(v[:-1], np.diff(v) / v[:-1], label=name, linewidth=1)
for name in ("fp32", "tf32"):
    f = format_info(name)
    x = np.logspace(np.log10(f.smallest_normal), np.log10(f.max), 2000)
    ax.loglog(x, 2.0 ** (np.floor(np.log2(x)) - f.mantissa_bits) / x, label=f"{name} (normal range)",
              linewidth=1, linestyle="--")
ax.set_xlim(1e-9, 1e6)
ax.set_xlabel("value")
ax.set_ylabel("gap to the next value / value")
ax.set_title("Relative spacing of representable positive numbers")
ax.grid(True, which="major", alpha=0.3)
ax.legend(fontsize=8, ncol=2, loc="center right")
fig.tight_layout()

for name in ("fp16", "bf16", "fp8_e4m3", "fp8_e5m2"):
    v = representable_values(name)
    print(f"{name:<9}: {np.count_nonzero(v > 0)} positive finite values, "
          f"{np.count_nonzero((v >= 1) & (v < 2))} of them in [1, 2)")

# %%
# FP16 and BF16 are both 16 bits wide and spend them differently: FP16 reaches only to 65504 but has 1024
# values between 1 and 2, BF16 reaches as far as FP32 but has only 128 there.
# BF16 is popular for training, where gradients and activations span a wide range and an overflow would
# stop the run; FP16 is the usual 16-bit choice for inference, where the activations of a trained
# network mostly fit its range and its extra 3 bits of precision keep results closer to FP32.
# The real tensors below show both sides.

# %%
# FP8 and INT8 both have 256 codes, but they place them differently.
# Scaled to the same largest value, INT8 spaces its levels evenly, while E4M3 crowds them near zero and
# spreads them out towards the top: better for values spread over orders of magnitude, worse for values
# that fill the range evenly.

e4m3 = representable_values("fp8_e4m3")
int8_levels = np.arange(-127, 128) * (e4m3.max() / 127)
fig, ax = plt.subplots(figsize=(8, 2.4))
ax.eventplot([e4m3[e4m3 >= 0], int8_levels[int8_levels >= 0]], lineoffsets=[1, 0], linelengths=0.8,
             linewidths=0.6, colors=["#1f77b4", "#ff7f0e"])
ax.set_yticks([1, 0], ["FP8 E4M3", "INT8, scale 448/127"])
ax.set_xlabel("value")
ax.set_title("The non-negative codes of FP8 E4M3 and INT8 over the same range")
fig.tight_layout()
for name, levels in (("fp8_e4m3", e4m3), ("int8", int8_levels)):
    print(f"{name}: {np.count_nonzero((levels > 0) & (levels < 448 / 16))} positive codes below 448/16 = 28, "
          f"{np.count_nonzero(levels >= 224)} codes in [224, 448]")

# %%
# Real tensors
# ------------
# The rest of the page uses EfficientNet-Lite0 and eight photographs, preprocessed as the model expects.
# A forward hook keeps the input of the first pointwise convolution (``blocks.0.0.conv_pw``, the output of
# a ReLU6), and the model's weights are read directly.

model = samples.efficientnet_lite0()
images = samples.sample_images(8, model.preprocess)
print("model:", model.source)
print("images:", images.source)

captured = {}
first_pw = model.module.blocks[0][0].conv_pw
handle = first_pw.register_forward_pre_hook(lambda module, args: captured.setdefault("x", args[0].detach().clone()))
with torch.inference_mode():
    logits = model.module(torch.from_numpy(images.array))
handle.remove()
act = captured["x"].numpy()
weights = np.concatenate([p.detach().numpy().ravel() for n, p in model.module.named_parameters()
                          if n.endswith("weight") and p.ndim > 1])
print(f"activation tensor: input of blocks.0.0.conv_pw, shape {act.shape}, max |x| {np.abs(act).max():.3f}")
print(f"weights: {weights.size} conv/linear weights, max |w| {np.abs(weights).max():.3f}")
versions = provenance.versions()
print(f"computed on {provenance.cpu_model()}, torch {versions['torch']}, numpy {versions['numpy']}, "
      f"ml_dtypes {importlib.metadata.version('ml_dtypes')}, {datetime.date.today().isoformat()}")

# %%
# Precision: FP16 against BF16
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~
# Converting both tensors to each format and back shows the price of BF16's range: its median relative
# error is about :math:`2^3 = 8` times FP16's, since it has 3 fraction bits fewer.
# FP16 has its own problem at the other end: its largest relative error on the weights is 100 %, a weight
# so small that it became 0. That is underflow, the subject of the next section.

for label, t in (("activations", act), ("weights", weights)):
    nonzero = t[t != 0]
    for name in ("fp16", "bf16"):
        back = nonzero.astype(format_info(name).dtype).astype(np.float32)
        rel = np.abs(back - nonzero) / np.abs(nonzero)
        print(f"{label:<11} in {name}: median relative error {np.median(rel):.2e}, largest {rel.max():.2e}")

# %%
# Underflow: small weights
# ~~~~~~~~~~~~~~~~~~~~~~~~
# Weights are small numbers.
# In FP16 the smallest of them fall below the smallest normal number, where fewer significant bits are
# left, and the very smallest flush to zero.
# FP8 E4M3 has far less range at the bottom: its smallest normal number is :math:`2^{-6}` and its smallest
# subnormal :math:`2^{-9} \approx 0.002`, so unscaled, many real weights lose most of their precision or
# vanish.
# That is why FP8, like INT8, is used with a per-tensor or per-channel scale that maps the tensor's
# chosen largest magnitude (its amax) to the format's largest value.

aw = np.abs(weights)
for name in ("fp16", "bf16", "fp8_e4m3"):
    f = format_info(name)
    zero = np.mean(aw.astype(f.dtype).astype(np.float32) == 0) - np.mean(aw == 0)
    sub = np.mean((aw > 0) & (aw < f.smallest_normal))
    print(f"{name:<9} unscaled: {100 * zero:6.2f} % of the weights become 0, "
          f"{100 * sub:6.2f} % are below the smallest normal")
scaled = aw / (aw.max() / format_info("fp8_e4m3").max)
zero = np.mean(scaled.astype(format_info("fp8_e4m3").dtype).astype(np.float32) == 0) - np.mean(aw == 0)
print(f"fp8_e4m3  with one scale (max |w| -> 448): {100 * zero:6.2f} % of the weights become 0")

# %%
# Overflow: a sum of squares
# ~~~~~~~~~~~~~~~~~~~~~~~~~~
# Each activation fits FP16 easily, but a reduction over many of them may not.
# A normalization layer computes the mean of squares over a whole feature map; accumulated in FP16, the
# running sum passes 65504 and becomes infinity, while FP32 (or FP16 inputs with an FP32 accumulator) has
# no trouble.
# This is why FP16 engines compute normalizations in FP32: TensorRT 10's normalization layer does so by
# default (its ``compute_precision``); with TensorRT 11's strongly typed networks the model's types decide,
# and ModelOpt's AutoCast keeps a node in FP32 when its inputs or outputs on reference data exceed
# ``data_max`` (512 by default) or, when asked with ``max_depth_of_reduction``, when it sums over too many
# values.

feature_map = act[0].ravel()
with np.errstate(over="ignore"):  # the overflow is the point of this cell
    sq16 = np.cumsum(feature_map.astype(np.float16) ** 2, dtype=np.float16)
sq32 = np.cumsum(feature_map.astype(np.float32) ** 2, dtype=np.float32)
first_inf = int(np.argmax(~np.isfinite(sq16))) if not np.all(np.isfinite(sq16)) else None
print(f"sum of squares of one image's feature map ({feature_map.size} values): FP32 {sq32[-1]:.6g}, "
      f"FP16 accumulator {sq16[-1]}")
if first_inf is not None:
    print(f"the FP16 running sum overflows after {first_inf} of {feature_map.size} values")

# %%
# Accumulation precision
# ~~~~~~~~~~~~~~~~~~~~~~
# Overflow is loud; lost precision is silent.
# When a running sum is large, each new small term is rounded to the sum's spacing: in FP16, above 2048
# the spacing is 2, so adding a value below 1 changes nothing.
# The plot adds the same activations, rounded to FP16, one by one with three accumulators.
# Tensor cores take FP16, BF16, FP8 or INT8 inputs and can accumulate their products in FP32 (INT32 for
# INT8), which is what keeps a long dot product accurate.

terms = np.abs(act[:4]).ravel()[:200_000]
exact = np.cumsum(terms.astype(np.float64))
running = {
    "FP16 accumulator": np.cumsum(terms.astype(np.float16), dtype=np.float16).astype(np.float64),
    "BF16 accumulator": np.cumsum(terms.astype(np.float32).astype(format_info("bf16").dtype),
                                  dtype=format_info("bf16").dtype).astype(np.float64),
    "FP32 accumulator": np.cumsum(terms.astype(np.float16).astype(np.float32), dtype=np.float32).astype(np.float64),
}
fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(exact, color="black", linewidth=2, label="exact (float64)")
for label, r in running.items():
    finite = np.isfinite(r)
    ax.plot(np.flatnonzero(finite), r[finite], label=label, linewidth=1)
ax.set_xlabel("number of terms added")
ax.set_ylabel("running sum")
ax.set_title("Running sum of |x|, x = input of blocks.0.0.conv_pw (EfficientNet-Lite0)", fontsize=10)
ax.legend(fontsize=8)
fig.tight_layout()
for label, r in running.items():
    print(f"{label}: final sum {r[-1]:.6g}, relative error {abs(r[-1] - exact[-1]) / exact[-1]:.2e}")
inputs_only = terms.astype(np.float16).astype(np.float64).sum()
print(f"the FP16-rounded inputs summed exactly (float64): relative error {abs(inputs_only - exact[-1]) / exact[-1]:.2e}")

# %%
# The FP16 and BF16 sums stop growing long before the end: every later term is smaller than half the
# spacing at the current sum and is rounded away.
# FP32 is not exact either: it rounds at every step too, only :math:`2^{13}` times more finely than FP16.
# The last line separates the two sources of its small error: the FP16-rounded inputs summed exactly stay
# much closer to the true sum, so most of what remains comes from the long sequential FP32 sum, which real
# kernels shorten by summing in tiles.
# Low-precision *inputs* are what make inference fast; a wide *accumulator* is what keeps it correct.
