"""
Calibration: choosing amax on real activations
==============================================

Weights are known before deployment; activations are not.
*Calibration* runs a few hundred representative inputs (here 16 images) through the model, records what
every quantized tensor looks like, and turns those statistics into one amax per tensor.
ModelOpt offers four ways to do the last step; TensorRT 10's built-in calibrators include the first and
the third (``IInt8MinMaxCalibrator``, ``IInt8EntropyCalibrator2``), which TensorRT 11 removed in favour of
explicit Q/DQ nodes whose scales come from a tool such as ModelOpt:

* **max**: the largest magnitude seen; nothing is clipped.
* **percentile**: the magnitude below which, say, 99.99 % of the values lie.
* **entropy**: the amax whose quantized histogram keeps the most information, measured by the
  Kullback-Leibler divergence (the algorithm of TensorRT's entropy calibrator).
* **mse**: the amax with the smallest expected squared error.

This page collects the inputs of every convolution and of the classifier of EfficientNet-Lite0 on
calibration images with ``demos.quant.collect_activations`` (forward hooks that stream each batch into a
fixed-size histogram, so memory does not grow with the number of images), applies the four calibrators,
and measures the quantization error they cause on *other* images.
"""

# %%
# Collecting histograms
# ---------------------

import datetime

import matplotlib.pyplot as plt
import numpy as np
import torch

from demos import provenance, samples
from demos.quant import Histogram, calibrate, entropy_amax, entropy_curve, fake_quantize, mse_curve
from demos.quant.calibrators import best_per_layer
from demos.quant.collect import collect_activations

METHODS = ("max", "percentile", "entropy", "mse")
COLORS = dict(zip(METHODS, ("#9467bd", "#8c564b", "#e377c2", "#17becf")))

model = samples.efficientnet_lite0()
calib = samples.sample_images(16, model.preprocess, role="calibration")
print("model:", model.source)
print("calibration images:", calib.source)
versions = provenance.versions()
print(f"computed on {provenance.cpu_model()}, torch {versions['torch']}, numpy {versions['numpy']}, "
      f"{datetime.date.today().isoformat()}")

batches = [torch.from_numpy(calib.array[i:i + 8]) for i in range(0, len(calib.array), 8)]
stats = collect_activations(model.module, batches, module_types=(torch.nn.Conv2d, torch.nn.Linear))
values = sum(c.num_values for c in stats.values())
histogram_bytes = sum(c.counts.nbytes for c in stats.values())
print(f"{len(stats)} quantized inputs observed over {len(batches)} batches: {values:,} values "
      f"({values * 4 / 2**20:.0f} MiB as float32), kept as {histogram_bytes / 2**10:.0f} KiB of histograms")

# %%
# Four calibrators, every layer
# -----------------------------
# Each calibrator reads the same histogram (2048 bins; ``percentile`` uses 99.99).

amax = {name: {m: calibrate(c, m) for m in METHODS} for name, c in stats.items()}
print(f"{'layer':<26}" + "".join(f"{m:>12}" for m in METHODS))
for name in list(amax)[:6] + ["..."] + list(amax)[-3:]:
    if name == "...":
        print("...")
        continue
    print(f"{name:<26}" + "".join(f"{amax[name][m]:>12.4f}" for m in METHODS))

# %%
# What the calibrators see
# ------------------------
# Four inputs with different shapes: the normalized image (input of the stem convolution), a ReLU6
# output (bounded by 6), a block input with long tails, and the pooled features that enter the classifier.
# Counts are on a logarithmic scale: the tail that decides amax holds a tiny fraction of the values.

shown = ["conv_stem", "blocks.0.0.conv_pw", "blocks.5.0.conv_pw", "classifier"]
fig, axes = plt.subplots(2, 2, figsize=(9, 6))
for ax, name in zip(axes.ravel(), shown):
    hist = stats[name].histogram().trimmed()
    ax.stairs(np.maximum(hist.counts, 0.5), hist.edges, fill=True, color="#bbbbbb")
    ax.set_yscale("log")
    for m in METHODS:
        ax.axvline(amax[name][m], color=COLORS[m], linestyle="--", linewidth=1.2, label=f"{m} {amax[name][m]:.2f}")
    ax.set_title(f"{name} input", fontsize=10)
    ax.set_xlabel("|x|")
    ax.legend(fontsize=7)
fig.suptitle(f"EfficientNet-Lite0 activations on {len(calib.array)} calibration images: histogram of |x| and amax")
fig.tight_layout()

# %%
# For the image and the ReLU6 output there is little to clip and all calibrators stay close to the
# maximum.
# Where a long tail holds a few large values, max follows the tail and the histogram-based methods cut it.
#
# Inside the entropy and MSE calibrators
# --------------------------------------
# Both scan candidate amax values (every bin edge from bin 128 up) and keep the best.
# The entropy calibrator compares the histogram up to the candidate, with everything above it folded
# into the last bin, to the same histogram squeezed into 128 levels and spread back out; the MSE
# calibrator integrates the squared rounding and clipping error over the histogram.
# In the sparse tail, many candidates end on an empty bin while values lie above it; their divergence is
# infinite (the quantized histogram has no mass where the clipped values land) and they are not drawn.

name = "blocks.5.0.conv_pw"
hist = stats[name].histogram()
cand_kl, kl = entropy_curve(hist)
cand_mse, mse = mse_curve(hist)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
finite = np.isfinite(kl)  # a candidate whose last bin is empty while values lie above it: infinite KL
ax1.plot(cand_kl[finite], kl[finite], ".", markersize=2)
ax1.axvline(amax[name]["entropy"], color=COLORS["entropy"], linestyle="--")
ax1.set_yscale("log")
ax1.set_xlabel("candidate amax")
ax1.set_ylabel("KL divergence")
ax1.set_title(f"entropy calibrator ({np.count_nonzero(~finite)} infinite, not drawn)", fontsize=10)
ax2.plot(cand_mse, mse)
ax2.axvline(amax[name]["mse"], color=COLORS["mse"], linestyle="--")
ax2.set_yscale("log")
ax2.set_xlabel("candidate amax")
ax2.set_ylabel("expected squared error")
ax2.set_title("MSE calibrator", fontsize=10)
fig.suptitle(f"Objective of each candidate, input of {name}")
fig.tight_layout()

# %%
# The resulting error, layer by layer
# -----------------------------------
# Calibration images are not the images the model will see later.
# The error is therefore measured on separate evaluation images: a forward pre-hook on every layer
# fake-quantizes its input with each calibrator's amax and accumulates the signal-to-quantization-noise
# ratio, :math:`\mathrm{SQNR} = 10 \log_{10} \big(\sum x^2 / \sum (x - \hat{x})^2\big)`, higher is better.
# The model's own computation is left unchanged, so each layer is measured on exact inputs.

evaluation = samples.sample_images(8, model.preprocess, role="evaluation")
print("evaluation images:", evaluation.source)
signal = {n: 0.0 for n in stats}
noise = {n: {m: 0.0 for m in METHODS} for n in stats}
modules = dict(model.module.named_modules())


def measure(layer_name):
    def hook(module, args):
        x = args[0].detach().numpy()
        signal[layer_name] += float(np.sum(x.astype(np.float64) ** 2))
        for m in METHODS:
            noise[layer_name][m] += float(np.sum((x - fake_quantize(x, amax[layer_name][m])).astype(np.float64) ** 2))
    return hook


handles = [modules[n].register_forward_pre_hook(measure(n)) for n in stats]
with torch.inference_mode():
    for i in range(0, len(evaluation.array), 4):
        model.module(torch.from_numpy(evaluation.array[i:i + 4]))
for h in handles:
    h.remove()

sqnr = {m: np.array([10 * np.log10(signal[n] / noise[n][m]) for n in stats]) for m in METHODS}
fig, ax = plt.subplots(figsize=(9, 4.5))
for m in METHODS:
    ax.plot(sqnr[m], marker="o", markersize=3, linewidth=1, color=COLORS[m], label=m)
ax.set_xlabel("quantized input (network order: stem ... classifier)")
ax.set_ylabel("SQNR [dB]")
ax.set_title(f"INT8 activation error per layer, EfficientNet-Lite0, {len(evaluation.array)} evaluation images")
ax.legend(fontsize=8)
fig.tight_layout()

# Best on a layer: no other method more than 0.01 dB better there; ties are counted apart.
best = best_per_layer(sqnr, tol=0.01)
names = list(stats)
print(f"{best['*']['ties']} of {best['*']['layers']} layers are ties, several methods within 0.01 dB of the best "
      f"({best['*']['all']} of them all four)")
for m in METHODS:
    worst = int(np.argmin(sqnr[m]))
    print(f"{m:>10}: mean SQNR {sqnr[m].mean():5.1f} dB, best alone on {best[m]['alone']:2d} layers, "
          f"tied for best on {best[m]['tied']:2d}, lowest {sqnr[m][worst]:5.1f} dB on "
          f"{names[worst]} (amax {amax[names[worst]][m]:.3f}, max {stats[names[worst]].amax:.3f})")

# %%
# On layers with long tails max loses a few decibels, because its step is set by values that almost
# never occur; where there is no tail to cut (the image, most ReLU6 outputs) the methods agree.
# Agreeing means a tie: on a ReLU6 output whose values reach 6, every calibrator picks amax = 6 and gets the
# same SQNR, so the counts keep the layers where one method is best alone apart from the ties (a plain
# ``argmax`` would hand every tie to the first method, max).
# MSE is the best or close to it on most layers, which is no surprise: it minimizes exactly the error
# measured here, on images it has not seen.
#
# The entropy calibrator's weakest layer
# --------------------------------------
# The entropy calibrator has the largest drops. Its weakest layer:

worst = names[int(np.argmin(sqnr["entropy"]))]
hist = stats[worst].histogram().trimmed()
nonzero = hist.total - stats[worst].num_zeros
clipped = hist.counts[hist.edges[:-1] >= amax[worst]["entropy"]].sum() / nonzero
print(f"{worst}: max {stats[worst].amax:.3f}, entropy amax {amax[worst]['entropy']:.3f}; "
      f"{100 * stats[worst].num_zeros / hist.total:.1f} % of its values are exact zeros, "
      f"{100 * clipped:.2f} % of the others lie above the entropy amax")
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.stairs(np.maximum(hist.counts, 0.5), hist.edges, fill=True, color="#bbbbbb")
ax.set_yscale("log")
for m in METHODS:
    ax.axvline(amax[worst][m], color=COLORS[m], linestyle="--", linewidth=1.2,
               label=f"{m} {amax[worst][m]:.2f}: {sqnr[m][names.index(worst)]:.1f} dB")
ax.set_xlabel("|x|")
ax.set_title(f"{worst} input: histogram of |x| (EfficientNet-Lite0, calibration images)", fontsize=10)
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# The KL divergence compares the *shape* of two histograms bin by bin; it does not see how far a clipped
# value moves.
# Cutting off a thin tail changes the shape of the histogram very little, so the divergence can be
# smallest well below the maximum; yet every clipped value moves by up to the distance between the
# maximum and amax, and the squared error, which is what the next layer receives, jumps.
# MSE measures exactly that distance and keeps the range.
#
# Two checks on the same histogram show what the entropy calibrator reacts to here. Flattening the top
# bin (where ReLU6 piles up values at exactly 6) does not move its pick, so the tail, not the pile, is
# what it cuts. Counting the exact zeros, which ``demos.quant`` leaves out by default (ModelOpt
# overwrites the zero bin with its neighbour for the same reason), lets the spike at 0 dominate:

flat = hist.counts.copy()
flat[-1] = flat[-2]
print(f"entropy amax: {entropy_amax(hist):.3f}; top bin flattened: "
      f"{entropy_amax(Histogram(flat, hist.edges, hist.amax, hist.num_zeros)):.3f}; "
      f"zeros counted: {entropy_amax(hist, exclude_zeros=False):.3f}")

# %%
# This is one reason to check a calibrator's result layer by layer, and to fall back to max or MSE for
# bounded activations such as ReLU6 outputs.
# A higher SQNR on every layer does not guarantee the best accuracy of the whole network, which also
# depends on how errors add up from layer to layer: the INT8 post-training quantization page measures
# accuracy for each calibrator.
