"""
Why low precision is fast
=========================

Lower precision speeds up inference for two reasons.
The GPU's tensor cores perform more multiply-adds per clock cycle on narrower numbers, and every value
that travels between memory and the chip takes fewer bytes.
This page measures both effects on a data-center GPU with PyTorch, sets the measurements next to
NVIDIA's datasheet, and works out whether ResNet50 is limited by arithmetic or by memory at each precision.

It then measures what a request waits for, ResNet50's latency at batch 1 and over a sweep of batch sizes,
and the rule that tensor cores want channel counts in multiples of 8 or 16.

The GPU numbers were measured on a GPU machine with three commands, ``python -m demos.gpu_speed`` (matrix
products and memory bandwidth), ``python -m demos.gpu_speed.alignment`` (channel alignment) and
``python -m demos.gpu_speed.latency`` (ResNet50 latency), and committed as JSON files.
This page is built on a CPU: it reads those files and prints, next to every number, the GPU, driver,
CUDA and PyTorch versions and the date of the measurement.
A measurement that is not committed yet is reported in the output as "not measured yet", together with the
command that produces it, and its figure is left out.
"""

# %%
# Tensor cores, and what halving the bits buys
# --------------------------------------------
# A tensor core is a unit inside each streaming multiprocessor (SM) that multiplies two small matrix tiles
# and adds the product to an accumulator in a single instruction, where an ordinary CUDA core performs one
# multiply-add per thread and instruction.
# A hardware multiplier grows faster than linearly with the width of its inputs, so in the same area and
# power budget a tensor core handles twice as many elements per cycle each time the input width halves:
# TF32 (19 bits: FP32's 8 exponent bits with 10 fraction bits), then FP16 and BF16, then FP8 and INT8.
# The products are summed in a wide accumulator (FP32 for the floating-point formats, INT32 for INT8), so
# narrow inputs do not mean a narrow sum.
#
# Halving the bits pays a second time on the way to the tensor cores: a value of half the size needs half
# the memory bandwidth, half the cache and half the registers.
# A layer that waits for its data gets it twice as fast.
#
# NVIDIA prints the Tensor Core rates of its datasheets *with sparsity*, a 2:4 structured-sparse mode that
# skips half of the weights.
# A dense matrix product, which is what a normal layer is, can reach half of the printed value.
# The table shows both; everything else on this page uses the dense value.

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torchvision

from demos.gpu_speed import alignment, analysis, datasheet, latency, mlperf, results, roofline

for sheet in datasheet.DATASHEETS.values():
    print(f"{sheet.gpu} datasheet (NVIDIA, {sheet.source}):")
    print(f"  {'dtype':<10}{'printed':>10}{'dense':>10}  unit")
    for dtype in datasheet.DTYPES:
        star = "*" if dtype in sheet.sparse_as_printed else " "
        print(f"  {dtype:<10}{sheet.printed[dtype]:>9.0f}{star}{sheet.dense_peak(dtype):>10.1f}  "
              f"{datasheet.UNITS[dtype]}")
    print(f"  memory bandwidth {sheet.memory_bandwidth_tbps} TB/s, {sheet.memory_gb:.0f} GB   "
          f"(* printed with 2:4 sparsity; dense is half)")

# %%
# What the GPU delivers
# ---------------------
# ``demos.gpu_speed`` multiplies random square matrices of size 4096, 8192 and 16384 in every data type:
# FP32 with TF32 switched off, TF32, BF16, FP16, FP8 E4M3 (``torch._scaled_mm``, once with Hopper's default
# accumulation and once with its faster, less precise "fast accumulation") and INT8 (``torch._int_mm``,
# INT32 results).
# It warms the GPU up, times with CUDA events, reports the median of many samples, rotates through several
# copies of the inputs when they would otherwise stay in the L2 cache between calls, and checks every
# product against float64 arithmetic on the same inputs.
# Memory bandwidth comes from copying a 2 GiB buffer on the device, counting each byte once as read and
# once as written.

measured = results.load_all()
if not measured:
    print("No GPU measurements are committed yet: demos/gpu_speed/results/ holds no result of "
          "`python -m demos.gpu_speed`.\nThe sections below that need them are skipped; the datasheet "
          "and ResNet50 analysis still run.\nTo add them, run on a GPU machine:\n"
          "  python -m demos.gpu_speed --out demos/gpu_speed/results/gpu_speed_<gpu>.json")
for path, doc in measured:
    print(f"{path.name}: {results.describe(doc)}")
    print(results.table(doc))
    print()

# %%
# The bars set the best measured rate of each data type (over the three sizes) next to the dense datasheet
# peak of the same GPU; the percentage is their ratio.


def plot_rates(doc):
    sheet = analysis.sheet_for(doc)
    best = results.best_rates(doc)
    cases = [c for c in results.CASES if c in best]
    x = np.arange(len(cases))
    fig, ax = plt.subplots(figsize=(9, 4.2))
    ax.bar(x - 0.2, [best[c]["rate"] for c in cases], 0.4, label="measured (PyTorch, median)")
    if sheet:
        peaks = [sheet.dense_peak(c) for c in cases]
        ax.bar(x + 0.2, peaks, 0.4, label=f"datasheet {sheet.gpu}, dense", color="0.75")
        for xi, c, peak in zip(x, cases, peaks):
            ax.annotate(f"{best[c]['rate'] / peak:.0%}", (xi - 0.2, best[c]["rate"]), ha="center",
                        va="bottom", fontsize=8)
    ax.set_xticks(x, [c.replace("_fast_accum", "\nfast accum") for c in cases], fontsize=8)
    ax.set_ylabel("TFLOPS (int8: TOPS)")
    ax.set_title(f"Dense matmul throughput per data type\n{results.describe(doc)}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()


for _, doc in measured:
    plot_rates(doc)

# %%
# A library kernel multiplying large, well-shaped matrices is the best case a GPU ever sees, so read the
# ratio as a ceiling for real layers.
# Two things keep even this case below the datasheet.
# The datasheet assumes the boost clock, but a GPU that runs dense tensor-core math at full speed can reach
# its power limit and lower its clock (the JSON records the clock and power right after the run).
# And the datasheet counts only the tensor-core math, while a real kernel also loads tiles, converts and
# stores the result; the faster the tensor cores, the harder it is to feed them, so compare the ratios
# across data types as well as the rates.
#
# Memory bandwidth
# ----------------
# A large device-to-device copy streams data through DRAM with almost no other work, so it shows the
# bandwidth a memory-bound layer can hope for.

bandwidth_bars = []
for path, doc in measured:
    mem, sheet, gpu = doc["memory"], analysis.sheet_for(doc), doc["provenance"]["gpu"]["name"]
    if "tbps" not in mem:
        print(f"{gpu}: the copy failed ({mem.get('error')})  [{results.describe(doc)}]")
        continue
    line = (f"{gpu}: copy of {mem['bytes_per_copy'] / 2**30:.0f} GiB, {mem['tbps']:.2f} TB/s median "
            f"(best sample {mem['best_tbps']:.2f} TB/s)")
    if sheet:
        line += f"; datasheet {sheet.memory_bandwidth_tbps} TB/s, {mem['tbps'] / sheet.memory_bandwidth_tbps:.0%} of it"
    print(line + f"  [{results.describe(doc)}]")
    bandwidth_bars.append((f"{gpu}\nmeasured {doc['provenance']['date'][:10]}", mem["tbps"], "C0"))
    if sheet:
        bandwidth_bars.append((f"{sheet.gpu}\ndatasheet", sheet.memory_bandwidth_tbps, "0.75"))
if bandwidth_bars:
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.5 * len(bandwidth_bars)))
    ax.barh(range(len(bandwidth_bars)), [b[1] for b in bandwidth_bars], color=[b[2] for b in bandwidth_bars])
    ax.set_yticks(range(len(bandwidth_bars)), [b[0] for b in bandwidth_bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("DRAM bandwidth, TB/s (copy: bytes read + written)")
    ax.set_title("Measured DRAM bandwidth of a device-to-device copy next to the datasheet", fontsize=9)
    fig.tight_layout()
else:
    print("No measured bandwidth to show (no GPU result files).")

# %%
# Where ResNet50 sits
# -------------------
# The roofline model bounds the speed of a piece of work by two ceilings: the compute rate, and the memory
# bandwidth times the arithmetic intensity, the number of operations performed per byte moved to or from
# DRAM.
# Work with an intensity above the *ridge point* (peak rate divided by bandwidth) is compute-bound; below
# it, memory-bound.
#
# The counts below come from the model itself.
# ``demos.gpu_speed.roofline`` runs torchvision's ResNet50 once on a 224x224 image with a forward hook on
# every layer, and records what each convolution and linear layer computes and what every layer reads and
# writes.
# Two traffic models are counted: *fused*, as an inference engine runs the network (each convolution with
# its BatchNorm, ReLU and residual add in one kernel, weights read once per batch of 256 images), and
# *unfused*, as eager framework code runs it (every layer reads its inputs from memory and writes its output
# back).
# The random weights that torchvision starts with change nothing here: only the shapes count.

layers = roofline.count_layers()
macs = sum(layer.macs for layer in layers)
params = sum(layer.params for layer in layers)
kinds = {kind: sum(layer.kind == kind for layer in layers) for kind in dict.fromkeys(l.kind for l in layers)}
print(f"torchvision {torchvision.__version__} ResNet50, 224x224: {macs / 1e9:.3f} GMAC = "
      f"{2 * macs / 1e9:.2f} GFLOP per image, {params / 1e6:.2f} M parameters")
print(f"{len(layers)} layers in execution order: " + ", ".join(f"{n} {k}" for k, n in kinds.items()))
print(f"\n{'stored as':<10}{'fused MB/img':>14}{'unfused MB/img':>16}{'fused FLOP/B':>14}{'unfused FLOP/B':>16}")
for name, element_bytes in (("fp32", 4), ("fp16", 2), ("int8/fp8", 1)):
    fused = roofline.traffic(layers, element_bytes, analysis.BATCH, "fused")
    unfused = roofline.traffic(layers, element_bytes, analysis.BATCH, "unfused")
    print(f"{name:<10}{fused.bytes / 1e6:>14.1f}{unfused.bytes / 1e6:>16.1f}"
          f"{fused.intensity:>14.0f}{unfused.intensity:>16.0f}")
print(f"(batch {analysis.BATCH}; the weights add "
      f"{roofline.traffic(layers, 2, analysis.BATCH).weight_bytes / 1e6:.2f} MB per image at 2 bytes each)")

# %%
# At a batch of 256 the weights hardly matter: activations dominate the traffic, and fusion cuts it to
# about a third.
# Now put the fused intensity on the roofline of each GPU, using the measured roofs where a result file
# exists and the datasheet otherwise.

roof_sets = []
for _, doc in measured:
    roofs = analysis.measured_roofs(doc)
    if roofs:
        roof_sets.append((roofs, results.describe(doc)))
if not roof_sets:
    roof_sets = [(analysis.datasheet_roofs(s), f"NVIDIA datasheet, {s.source}")
                 for s in datasheet.DATASHEETS.values()]


def plot_roofline(roofs, caption):
    fig, ax = plt.subplots(figsize=(8, 4.8))
    intensity = np.logspace(0, 4, 200)
    colors = {}
    for dtype in ("fp32", "tf32", "fp16", "fp8_e4m3", "int8"):
        if dtype in roofs.compute:
            (line,) = ax.loglog(intensity, np.minimum(roofs.compute[dtype], intensity * roofs.bandwidth_tbps),
                                label=f"{dtype} roof")
            colors[dtype] = line.get_color()
    names: dict[tuple, list[str]] = {}  # FP8 and INT8 share a point when their roofs are equal
    for p in analysis.place_resnet50(layers, roofs):
        dtype = analysis.RESNET50_PRECISIONS[p.precision][0]
        ax.plot(p.intensity, p.attainable, "o", color=colors.get(dtype, "k"))
        names.setdefault((round(p.intensity), round(p.attainable, -1)), []).append(p.precision)
    for (x, y), precisions in names.items():
        ax.annotate("ResNet50 " + "/".join(precisions), (x, y), textcoords="offset points", xytext=(5, -12),
                    fontsize=8)
    ax.set_xlabel("arithmetic intensity (FLOP or OP per DRAM byte)")
    ax.set_ylabel("attainable TFLOPS (int8: TOPS)")
    ax.set_title(f"Roofline ({roofs.label}), ResNet50 fused, batch {analysis.BATCH}\n{caption}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()


for roofs, caption in roof_sets:
    plot_roofline(roofs, caption)
    print(f"{roofs.label} ({roofs.bandwidth_tbps:.2f} TB/s) [{caption}]")
    print(f"  {'precision':<10}{'FLOP/B':>8}{'ridge':>8}  {'bound':<14}{'attainable':>11}{'img/s bound':>13}")
    placed = analysis.place_resnet50(layers, roofs)
    for p in placed:
        print(f"  {p.precision:<10}{p.intensity:>8.0f}{p.ridge:>8.0f}  {p.bound:<14}{p.attainable:>10.0f}T"
              f"{p.images_per_second:>13,.0f}")
    for step in analysis.precision_steps(placed, roofs):  # each step: its gain in the model, and why
        print(f"  {step['new']} vs {step['old']}: {step['speedup_bound']:.2f}x img/s bound "
              f"({step['bounds'][0]} vs {step['bounds'][1]}), compute roof {step['compute_roof_ratio']:.2f}x")

# %%
# From TF32 to FP16 to INT8, halving the element size doubles the intensity, and on the datasheet it also
# doubles the compute roof, so ResNet50 stays on the same side of the ridge and each step can at most
# double the ceiling, whether the network is memory-bound or compute-bound.
# Measured roofs need not keep that ratio: a library kernel reaches a different share of the datasheet
# peak in each data type (see the bars above), so each data type has its own ridge, the network can
# change sides, and the gain of a step need not be two.
# The last two lines under each table compare INT8 with FP16 and FP8 with INT8: the ratio of their
# images-per-second bounds, the side of its ridge each one is on, and the ratio of their compute roofs.
# FP32 on the CUDA cores is the exception: its roof is so low that the network is limited by arithmetic
# there, which is why the step from FP32 to any tensor-core format is the largest of all.
# The images-per-second column is an upper bound from this model, not a prediction.
#
# Why real networks get less than the peak
# ----------------------------------------
# The network's average hides its layers.
# Each dot below is one convolution (or the final linear layer) at batch 256, placed by its own intensity;
# the dashed lines are the ridge points of the first roofline above.

roofs, caption = roof_sets[0]
fig, ax = plt.subplots(figsize=(8, 4))
for name, (dtype, element_bytes) in (("fp16", analysis.RESNET50_PRECISIONS["fp16"]),
                                     ("int8", analysis.RESNET50_PRECISIONS["int8"])):
    rows = roofline.layer_intensities(layers, element_bytes, analysis.BATCH)
    ridge = roofline.ridge_point(roofs.compute[dtype], roofs.bandwidth_tbps)
    (dots,) = ax.semilogx([r[2] for r in rows], [r[1] / 1e6 for r in rows], "o", alpha=0.6, label=name)
    ax.axvline(ridge, color=dots.get_color(), linestyle="--", linewidth=1)
    below, total, share = analysis.share_below_ridge(layers, element_bytes, ridge)
    print(f"{name}: {below} of {total} layers are below the ridge ({ridge:.0f} FLOP/B, {roofs.label}); "
          f"they hold {share:.0%} of the FLOPs")
ax.set_xlabel("layer arithmetic intensity (FLOP per DRAM byte, fused)")
ax.set_ylabel("MFLOP per image")
ax.set_title(f"ResNet50 layers at batch {analysis.BATCH}, with the ridge points of the roofline "
             f"({roofs.label})\n{caption}", fontsize=9)
ax.grid(True, which="both", alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Three effects keep a real network below the roofline, and all three grow as the math gets faster.
#
# * **Memory-bound layers.** The 1x1 convolutions that shrink and expand the channels, the first
#   convolution, pooling and, in eager code, every BatchNorm, ReLU and residual add do few operations per
#   byte. Faster math does nothing for them; only fewer bytes (a narrower format or fusion) does.
# * **Small layers.** A GPU splits a layer into tiles and spreads them over its 132 SMs. When a layer has
#   too few tiles, or the last wave of tiles is only partly full, SMs sit idle. The last ResNet50 stage
#   works on 7x7 feature maps: at batch 1 its convolutions are matrix products with only 49 rows, far too
#   few tiles for the GPU. Large batches fill the GPU, which is why throughput benchmarks use them and why
#   latency-bound serving with small batches stays further from the peak.
# * **Launch overhead.** Each kernel costs a few microseconds to launch and to ramp up and drain. Eager
#   PyTorch runs at least one kernel per layer counted above; at small batches that fixed cost rivals the
#   math. Engines fuse layers into fewer kernels and replay them as one CUDA graph.
#
# Channel counts the tensor cores like
# ------------------------------------
# A tensor core multiplies fixed-size tiles, 32 bytes deep along the dimension that is summed over, and the
# kernels that feed it load 16 bytes at a time.
# NVIDIA's rule for the layers that run on it (the "Tensor Core Requirements" of its *Matrix Multiplication
# Background* guide; seed article 004 of this tutorial teaches the same) follows from that: the channel counts
# that meet in the product, the input and output channels of a convolution or the K and N of a matrix
# product, should be multiples of 8 in FP16 and of 16 in INT8, 16 bytes either way.
# Current cuBLAS and cuDNN still use the tensor cores for other sizes, through kernels with narrower loads
# or internal padding, so breaking the rule costs speed, not correctness; ``torch._int_mm`` goes further and
# refuses INT8 sizes that are not multiples of 8.
#
# ``python -m demos.gpu_speed.alignment`` times three layers shaped like ResNet50's first stage at batch 256
# (56x56 feature maps, 802,816 pixels), with 63, 64, 65, 72, 80 and 128 channels in and out: a 1x1
# convolution written as a matrix product in FP16 (``torch.mm``) and in INT8 (``torch._int_mm``), and a
# 3x3 convolution in FP16 (cuDNN, channels-last).
# A channel count that breaks the rule is timed a second time with its channels zero-padded to the next
# multiple, which is TensorRT's answer to such a layer (its layer information shows formats such as
# "channel % 8 == 0"); the padded run is charged only with the useful work, so the wasted channels count
# against it. The rate is the useful work over the median time, and every result is checked against float64.

alignment_docs = results.load_all(schema=alignment.SCHEMA)
if not alignment_docs:
    print("Channel alignment: not measured yet (no demos.gpu_speed.alignment result is committed).\n"
          "To add it, run on a GPU machine:\n"
          "  python -m demos.gpu_speed.alignment --out demos/gpu_speed/results/alignment_<gpu>.json")
for path, doc in alignment_docs:
    print(f"{path.name}: {alignment.describe(doc)}")
    print(alignment.table(doc))
    print()


def plot_alignment(doc):
    fig, axes = plt.subplots(1, len(alignment.CASES), figsize=(10, 3.4), sharey=False)
    for ax, (op, dtype) in zip(axes, alignment.CASES):
        rows = alignment.series(doc, op, dtype)
        if not rows:
            ax.set_axis_off()
            ax.set_title(f"{op} {dtype}: not in this file", fontsize=9)
            continue
        x = np.arange(len(rows))
        as_is = [r["tflops"] or 0 for r in rows]
        ax.bar(x - 0.2, as_is, 0.4, color=["C0" if r["aligned"] else "C3" for r in rows], label="as is")
        ax.bar(x + 0.2, [r["padded_tflops"] or 0 for r in rows], 0.4, color="0.7", hatch="//",
               label="zero-padded to the next multiple")
        for xi, r in zip(x, rows):
            if r["tflops"] is None:
                ax.annotate("refused", (xi - 0.2, 0), rotation=90, ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, [str(r["channels"]) for r in rows], fontsize=8)
        ax.set_xlabel(f"channels (rule: multiple of {alignment.ALIGN[dtype]})", fontsize=8)
        ax.set_title(f"{op} {dtype}", fontsize=9)
        ax.set_ylabel("useful TOPS" if dtype == "int8" else "useful TFLOPS", fontsize=8)
    next(ax for ax in axes if ax.axison).legend(fontsize=7)
    fig.suptitle(f"Tensor-core alignment: red bars break the rule\n{alignment.describe(doc)}", fontsize=9)
    fig.tight_layout()


for _, doc in alignment_docs:
    plot_alignment(doc)

# %%
# The "vs aligned" column divides each channel count's best usable rate (as is, or padded when that is
# faster) by the rate of the nearest aligned count at or above it: 64 for 63, 72 for 65 in FP16, 80 for
# 65 and 72 in INT8. Near 1, the library hid the odd size; well below 1, the layer pays for it.
# The practical rule is cheap to follow when you design, prune or export a network: give every layer
# channel counts that are multiples of 8 for FP16 and of 16 for INT8 (64 channels in and out cost
# (64/63)² - 1 ≈ 3.2 % more arithmetic than 63, far less than a slow kernel), and expect TensorRT to pad the
# ones you cannot change.
#
# Latency: one image at a time
# ----------------------------
# Throughput is what an offline job cares about. A service that answers requests as they come, the edge
# and online-serving scenarios of seed article 001, cares about latency: how long one request waits for its
# answer, and how long the slowest ones wait. p50 is the median; p99 is the time that 99 % of requests stay
# under.
# At batch 1 the effects above dominate. ResNet50 at 224x224 is about 8 GFLOP, a small fraction of a
# millisecond of tensor-core time, while eager PyTorch launches its kernels one by one from Python.
#
# ``python -m demos.gpu_speed.latency`` measures ResNet50 (random weights: speed does not depend on them)
# in six configurations: FP32 (TF32 off) and FP16 (channels-last) in eager PyTorch; the same two captured
# once as a CUDA graph and replayed, one launch for the whole network; and FP16 compiled with
# ``torch.compile`` (Inductor, weights frozen so that BatchNorm folds into the convolutions), without and
# with CUDA graphs (``mode="reduce-overhead"``).
# Latency is timed on the host, from the call until its result is ready, one request at a time, each on a
# different input already on the GPU. The GPU-side time between two CUDA events around the same call is
# recorded too; the difference between the two is time the GPU spent waiting for the host.
# Throughput comes from requests queued back to back, and every configuration's output is checked against
# the same network in float64. Batch 1 comes first, then the batch sizes 8, 32, 128 and 256 (the compiled
# configuration without CUDA graphs at batch 1 only: each batch size costs it another compilation).

latency_docs = results.load_all(schema=latency.SCHEMA)
if not latency_docs:
    print("ResNet50 latency: not measured yet (no demos.gpu_speed.latency result is committed).\n"
          "To add it, run on a GPU machine:\n"
          "  python -m demos.gpu_speed.latency --out demos/gpu_speed/results/latency_<gpu>.json")
for path, doc in latency_docs:
    print(f"{path.name}: {latency.describe(doc)}")
    print(latency.table(doc))
    for line in doc.get("skipped") or []:
        print(f"not measured (time budget): {line}")
    summary = {r["config"]: r for r in latency.batch1_summary(doc)}
    for slow, fast, what in (("fp16_eager", "fp16_cuda_graph", "a CUDA graph"),
                             ("fp32_eager", "fp16_eager", "FP16 instead of FP32, both eager"),
                             ("fp16_eager", "fp16_compile_cuda_graph", "torch.compile with CUDA graphs")):
        if slow in summary and fast in summary:
            print(f"batch 1, {what}: p50 {summary[slow]['p50_ms']:.2f} -> {summary[fast]['p50_ms']:.2f} ms "
                  f"({summary[slow]['p50_ms'] / summary[fast]['p50_ms']:.1f}x)")
    print()


def plot_batch1(doc):
    rows = latency.batch1_summary(doc)
    fig, ax = plt.subplots(figsize=(9, 1.5 + 0.45 * len(rows)))
    y = np.arange(len(rows))
    ax.barh(y, [r["p50_ms"] for r in rows], color="C0", label="p50 (host, request to result)")
    ax.plot([r["p99_ms"] for r in rows], y, "k|", markersize=14, label="p99")
    gpu = [(yi, r["gpu_p50_ms"]) for yi, r in zip(y, rows) if r["gpu_p50_ms"]]
    if gpu:
        ax.plot([g[1] for g in gpu], [g[0] for g in gpu], "o", color="C1", markersize=5,
                label="p50 GPU time between events")
    ax.set_yticks(y, [r["config"] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ResNet50 latency at batch 1, ms")
    ax.set_title(f"Batch-1 latency\n{latency.describe(doc)}", fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()


def plot_sweep(doc):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name in latency.CONFIGS:
        pts = latency.sweep(doc, name)
        if not pts:
            continue
        batches = [p["batch"] for p in pts]
        ax1.loglog(batches, [p["p50_ms"] for p in pts], "o-", label=name)
        ax2.semilogx(batches, [p["images_per_s"] for p in pts], "o-", label=name)
    ax1.set_xlabel("batch size")
    ax1.set_ylabel("p50 latency of one batch, ms")
    ax2.set_xlabel("batch size")
    ax2.set_ylabel("images per second (queued requests)")
    ax2.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax1.legend(fontsize=7)
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(f"ResNet50 batch sweep\n{latency.describe(doc)}", fontsize=9)
    fig.tight_layout()


for _, doc in latency_docs:
    plot_batch1(doc)
    plot_sweep(doc)

# %%
# How to read the two figures. At batch 1, the gap between an eager row and its CUDA-graph replay is
# launch overhead, which no precision removes: in eager mode the GPU waits for Python whether it computes
# in FP16 or FP32, so FP16 alone saves little there. As the batch grows, each launch carries more work, the
# graph's advantage shrinks and the data type takes over, until at large batches the FP16 and FP32 rows
# differ by roughly the ratio of their math rates, as on the ladder below. Latency grows with the batch
# while throughput levels off, so a server picks the largest batch its latency budget allows.
# A TensorRT engine behaves like the graphed rows: one call runs the whole network (``trtexec
# --useCudaGraph`` even replays it as a CUDA graph), with its layers fused into fewer kernels.
#
# The PyTorch ladder and MLPerf
# -----------------------------
# The ResNet50 demo (``python -m demos.resnet50 bench --backend torch-cuda``) measures ResNet50 inference
# throughput in PyTorch at several precisions, layouts and compilation settings: a ladder of
# configurations at large batch sizes. It writes one file per GPU (it refuses to add the results of another
# GPU, driver or PyTorch to an existing file), so the H100 and the H200 each have their own ladder; a GPU
# whose file is not committed yet is reported as not measured.
# The reference point is NVIDIA's own MLPerf Inference submissions for these GPUs: TensorRT engines in
# INT8 with hand-fused kernels, measured in MLPerf's Offline scenario (all images available at once,
# throughput only), on 8-GPU systems whose result is divided by 8 here.

ladder = analysis.resnet50_ladder()
ladder_gpus = list(dict.fromkeys(row["gpu"] for row in ladder))
for gpu in ladder_gpus:
    rows = [row for row in ladder if row["gpu"] == gpu]
    print(f"PyTorch ladder on {gpu} ({rows[0]['file']}; {rows[0]['provenance']}):")
    for row in rows:
        print(f"  {row['label']:<28} batch {row['batch']:>4}  {row['images_per_second']:>10,.0f} img/s")
for name in datasheet.DATASHEETS:
    if not any(datasheet.match_gpu(gpu) is datasheet.DATASHEETS[name] for gpu in ladder_gpus):
        print(f"PyTorch ladder on {name}: not measured yet (no bench_gpu_*.json from this GPU in "
              "demos/resnet50/results/; the command is in its README)")
for ref in mlperf.RESNET50_OFFLINE:
    print(f"MLPerf Inference {ref.round}, {ref.system}, {ref.software}, {ref.precision}, Offline: "
          f"{ref.samples_per_second:,.0f} samples/s for {ref.gpus} GPUs = {ref.per_gpu:,.0f} per GPU\n"
          f"  source: {ref.source}")
h100, h200 = mlperf.for_gpu("H100 SXM"), mlperf.for_gpu("H200 SXM")
sheets = datasheet.DATASHEETS
print(f"H200 / H100 per GPU: MLPerf {h200.per_gpu / h100.per_gpu:.2f}x; datasheet memory bandwidth "
      f"{sheets['H200 SXM'].memory_bandwidth_tbps / sheets['H100 SXM'].memory_bandwidth_tbps:.2f}x, "
      f"INT8 peak {sheets['H200 SXM'].dense_peak('int8') / sheets['H100 SXM'].dense_peak('int8'):.2f}x")

labels, values, colors = [], [], []
for ref in mlperf.RESNET50_OFFLINE:  # each GPU's MLPerf bar, then that GPU's PyTorch ladder
    labels.append(f"MLPerf {ref.round} TensorRT {ref.precision}\n{ref.gpu}, per GPU")
    values.append(ref.per_gpu)
    colors.append("0.6")
    for row in ladder:
        sheet = datasheet.match_gpu(row["gpu"])
        if sheet is not None and sheet.gpu == ref.gpu:
            labels.append(f"PyTorch {row['label']}, batch {row['batch']}\n{row['gpu']}")
            values.append(row["images_per_second"])
            colors.append("C0")
for row in ladder:  # a GPU without an MLPerf reference still shows its ladder
    sheet = datasheet.match_gpu(row["gpu"])
    if sheet is None or mlperf.for_gpu(sheet.gpu) is None:
        labels.append(f"PyTorch {row['label']}, batch {row['batch']}\n{row['gpu']}")
        values.append(row["images_per_second"])
        colors.append("C0")
fig, ax = plt.subplots(figsize=(8, 1.2 + 0.36 * len(values)))
ax.barh(np.arange(len(values)), values, color=colors)
ax.set_yticks(np.arange(len(values)), labels, fontsize=7)
ax.invert_yaxis()
ax.set_xlabel("ResNet50 images per second")
ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
ax.set_title("ResNet50 throughput: PyTorch ladder per GPU vs MLPerf (TensorRT INT8)", fontsize=9)
fig.tight_layout()

# %%
# MLPerf's engines are the result of the whole toolbox: INT8 everywhere with calibrated scales,
# convolutions fused with their BatchNorm, activation and residual add, a plugin that runs the whole first
# residual stage in one kernel, data layouts chosen for the tensor cores, and large batches.
# The gap between the best PyTorch rung and the MLPerf bar therefore mixes three things that this
# comparison cannot separate: precision (the PyTorch rungs stop at FP16 and BF16; MLPerf runs INT8),
# tuning that only a benchmark submission gets (the hand-written first-stage plugin, batch sizes and
# settings searched for this one network and GPU), and TensorRT itself (layer fusion and kernels chosen
# by timing on the GPU). Neither bar ran on this page's machines with the other's software, so read the gap
# as the upper bound of what the rest of this tutorial's tools can win, not as what TensorRT alone adds.
#
# The last printed line is a check on the roofline model.
# If ResNet50 were limited by DRAM as the layer-at-a-time model above says, the H200 would beat the H100 by
# the ratio of their bandwidths; if it were limited by the tensor cores, the two would tie.
# Kernels that fuse several layers keep activations on the chip and move a network towards the compute
# roof, and the two results come from different MLPerf rounds and TensorRT versions, so read the ratio as
# a hint, not a measurement of either effect.
#
# Choosing FP16, INT8 or FP8
# --------------------------
# * **FP16 (or BF16)** is the default step: about twice the math rate of TF32 and half the bytes of FP32,
#   no calibration, and accuracy that almost always matches FP32 for inference. Start here.
# * **INT8** doubles the datasheet math rate and halves the bytes again, which is worth up to twice FP16's
#   speed for convolutional networks like ResNet50, memory-bound or not; with the measured roofs above the
#   bound grows by less (the "int8 vs fp16" line). It needs scales from calibration or quantization-aware
#   training, and a check of the accuracy (the INT8 pages show how).
# * **FP8** has the same size as INT8 and, on Hopper's datasheet, the same dense math rate. Measured, the
#   two differ: PyTorch's FP8 product (``torch._scaled_mm``) ran faster than its INT8 one
#   (``torch._int_mm``), as the measured rates and the compute roof of the "fp8 vs int8" line show. That is
#   a difference between two library kernels, which the datasheet does not show; an engine's speed depends
#   on the kernels it has for each type, so measure the one you deploy.
#   FP8's exponent bits cover a wider range with one scale per tensor, which suits transformer activations
#   with outliers; for CNNs with ReLU, INT8 is usually as accurate and more widely supported (GPUs before
#   Hopper and Ada have no FP8 tensor cores).
#
# Use the roofline to set expectations: a memory-bound network gains from every byte saved, a
# compute-bound one from every doubling of the math rate, and lower precision gives both.
#
# INT8 on a CPU: one fusion decides the speed
# -------------------------------------------
# Faster arithmetic only pays when the runtime can use it, and a single missed fusion can take most of the
# gain away. The ResNet50 demo's CPU deployment of EfficientNet-Lite0 shows it. Its ``cpu_int8_trt_scales``
# form reuses TensorRT's calibration: every activation gets TensorRT's symmetric step ``amax / 127``,
# carried as uint8 with zero point 0 after an activation (ONNX Runtime's fast x86 kernels take unsigned
# 8-bit activations). ONNX Runtime fuses each ``DequantizeLinear -> Conv -> QuantizeLinear`` into one integer
# convolution, but EfficientNet-Lite0 follows most convolutions with ReLU6, a ``Clip(0, 6)``, and ONNX
# Runtime drops a Clip in front of a QuantizeLinear only when the quantized range itself ends at 6. With
# TensorRT's step the uint8 range ends at ``255 * amax / 127``, about twice amax, so each ReLU6 stayed a float
# operator between an extra DequantizeLinear and QuantizeLinear: a float round trip after almost every
# convolution, which cost the form most of its INT8 gain over ONNX Runtime's own asymmetric form.
#
# TensorRT has no such problem: it clips inside the convolution kernel. The demo now does the equivalent
# for ONNX Runtime (``cpu_int8.fold_clips`` and ``cpu_int8.clip_codes``): it removes each ReLU6 before
# quantization and puts the clip back on the integer codes, as a ``Clip`` of the uint8 tensor between the
# QuantizeLinear and the DequantizeLinear, with bounds ``0`` and ``min(127, round(6 / step))``. Rounding
# is monotonic, so this is exactly TensorRT's ``clamp(round(clip(x, 0, 6) / step), -128, 127)``: the scales
# stay TensorRT's, and ONNX Runtime sees ``DequantizeLinear -> Conv -> QuantizeLinear`` around every
# convolution again.
#
# Below, the form is built both ways from the same calibration (the maximum of every activation over 32
# calibration images), and ONNX Runtime's optimized graphs are counted: the operators it actually runs.

from demos import gallery_cache, provenance  # noqa: E402
from demos.resnet50 import cpu_int8, evaluate  # noqa: E402

lite0 = gallery_cache.Artifacts("efficientnet_lite0")
lite0_fp32 = lite0.fp32_onnx()
lite0_calib = lite0.images("calib", count=32)
fold = cpu_int8.relu6_fold_study(lite0_fp32, lite0_calib.array, lite0_calib.data_hash,
                                 gallery_cache.CACHE_ROOT / "cpu_int8")
graphs = {"FP32": cpu_int8.ort_kernels(lite0_fp32), "ReLU6 kept in float": fold["kept"]["kernels"],
          "ReLU6 folded": fold["folded"]["kernels"]}
print(f"{lite0.spec.name} ({lite0.spec.weights_label}); calibration: {lite0_calib.source}")
ops = ["Conv", "QLinearConv", "Clip", "QuantizeLinear", "DequantizeLinear", "Clip (uint8 codes)", "QLinearAdd"]
print("operators ONNX Runtime runs, per inference:")
print(f"{'':<20}" + "".join(f"{name:>22}" for name in graphs))
for op in ops:
    print(f"{op:<20}" + "".join(f"{counts.get(op, 0):>22}" for counts in graphs.values()))
print(f"folded: {fold['folded']['relu6']}")

lite0_eval = lite0.images("eval", count=200)
ref = lite0.ort_logits(lite0_fp32, lite0_eval)
logits = {form: lite0.ort_logits(fold[form]["file"], lite0_eval) for form in ("kept", "folded")}
for name, lg in (("FP32", ref), ("ReLU6 kept in float", logits["kept"]), ("ReLU6 folded", logits["folded"])):
    m = evaluate.metrics(lg, lite0_eval.labels, ref, lite0.spec.real_weights)
    print(f"{name:<22} top-1 {m.top1:.2%}  agreement with FP32 {m.agreement:.2%}  "
          f"({m.images} evaluation images)")
diff = np.abs(logits["folded"] - logits["kept"])
print(f"folded vs kept: {int((diff > 0).any(axis=1).sum())} of {len(diff)} images with any logit that differs "
      f"(largest difference {diff.max():.3g}), top-1 agreement "
      f"{(logits['folded'].argmax(1) == logits['kept'].argmax(1)).mean():.2%}")

fig, ax = plt.subplots(figsize=(8, 3.2))
shown = ["QLinearConv", "Clip", "QuantizeLinear", "DequantizeLinear", "Clip (uint8 codes)"]
x = np.arange(len(shown))
for i, form in enumerate(("kept", "folded")):
    ax.bar(x + (i - 0.5) * 0.4, [fold[form]["kernels"].get(op, 0) for op in shown], 0.4,
           label=f"TensorRT scales, ReLU6 {form}")
ax.set_xticks(x, [op.replace(" (", "\n(") for op in shown], fontsize=8)
ax.set_ylabel("operators per inference")
ax.set_title("EfficientNet-Lite0 INT8 with TensorRT's scales on ONNX Runtime (CPU): operators after graph "
             "optimization", fontsize=9)
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# With the fold, the float Clips and their dequantize/requantize pairs are gone; what remains per ReLU6 is
# the clip of the uint8 codes, one pass over bytes. The outputs of the two forms differ only where a
# ReLU6's calibrated amax is below 6: there TensorRT, and now the folded form, saturate at amax, while the
# kept form saturated only at 6 or at twice amax, whichever is lower. The printed comparison shows how often
# that changes a logit.
#
# Speed has to be measured on a quiet machine with the demo's ``bench`` stage, and the recorded benchmark
# says when it was run and on which CPU. A run from before the fold still shows the slow form; the last
# printed line says which form the recorded run measured.

cpu_dir = Path(evaluate.__file__).resolve().parent / "results" / "cpu_efficientnet_lite0"
bench = json.loads((cpu_dir / "bench_ort.json").read_text(encoding="utf-8"))
recorded_form = json.loads((cpu_dir / "ptq_int8.json").read_text(encoding="utf-8"))["cpu_forms"]["trt_scales"]
host = bench["provenance"]["host"]
print(f"recorded ONNX Runtime CPU benchmark: {host['cpu']}, {host['cpu_count']} cores "
      f"({', '.join(provenance.int8_dot_product(host['cpu_flags'])) or 'no INT8 dot-product instructions'}), "
      f"{bench['provenance']['date'][:10]}, ONNX Runtime {bench['provenance']['versions']['onnxruntime']}")
for variant, ratio in bench["speedup_vs_fp32"].items():
    print(f"  {variant:<26} {ratio:.2f}x FP32")
print("the recorded cpu_int8_trt_scales " + (
    f"has its ReLU6 folded ({recorded_form['relu6']})" if recorded_form.get("folded_clips")
    else "predates the fold (ReLU6 kept in float); re-measure with the commands in "
         "demos/resnet50/results/README.md"))

# %%
# Where the INT8 time goes
# ------------------------
# The demo's goal for this form was 2.5 times FP32. To see what stands in the way, the ``bench`` stage also
# runs each form once more under ONNX Runtime's own profiler (``demos.resnet50.ort_profile``) and adds up
# the kernel time of every operator per batch, by kind: dense convolutions (1x1 and full 3x3 ones),
# depthwise convolutions (one 3x3 or 5x5 window per channel), quantize/dequantize, Clip and the rest.
# Kernel time leaves out the gaps between kernels, so each sum is a little below the measured latency.
#
# The last line divides FP32's total by the INT8 form's convolution time alone. That is the speed-up the
# form would reach if every other operator cost nothing; if it is below the goal, no rewrite of the graph
# around the convolutions can reach the goal on this CPU, only faster convolution kernels can.

profiles = {r["variant"]: r["op_profile"] for r in bench["results"] if "op_profile" in r}
profiled = [v for v in ("fp32", "cpu_int8_trt_scales", "cpu_int8_best") if v in profiles]
if {"fp32", "cpu_int8_trt_scales"} <= set(profiled):
    kinds = list(profiles["fp32"]["kernel_ms_per_batch"])
    ms = {v: profiles[v]["kernel_ms_per_batch"] for v in profiled}
    print(f"kernel milliseconds per batch of {profiles['fp32']['batch']}, "
          f"{profiles['fp32']['threads']} threads:")
    label = {"fp32": "FP32", "cpu_int8_trt_scales": "INT8 trt_scales", "cpu_int8_best": "INT8 best"}
    print(f"{'operator kind':<24}" + "".join(f"{label[v]:>17}" for v in profiled)
          + f"{'FP32 / trt_scales':>19}")
    for kind in kinds + ["total"]:
        row = {v: (sum(ms[v].values()) if kind == "total" else ms[v][kind]) for v in profiled}
        # A kind FP32 does not run (quantize/dequantize, the Clip of the INT8 form) has no ratio.
        ratio = (f"{row['fp32'] / row['cpu_int8_trt_scales']:.2f}x"
                 if row["fp32"] and row["cpu_int8_trt_scales"] else "-")
        print(f"{kind:<24}" + "".join(f"{row[v]:>17.1f}" for v in profiled) + f"{ratio:>19}")
    conv_kinds = ("dense convolution", "depthwise convolution")
    ceiling = sum(ms["fp32"].values()) / sum(ms["cpu_int8_trt_scales"][k] for k in conv_kinds)
    print(f"FP32 total / INT8 convolution time alone = {ceiling:.2f}x:")
    print("  below the 2.5x goal: the convolution kernels themselves bound this form on this CPU"
          if ceiling < 2.5 else "  the 2.5x goal is within reach of the convolution kernels")

    fig, ax = plt.subplots(figsize=(8, 2.8))
    left = np.zeros(len(profiled))
    for kind in kinds:
        widths = np.array([ms[v][kind] for v in profiled])
        ax.barh([label[v] for v in profiled], widths, left=left, label=kind)
        left += widths
    ax.invert_yaxis()
    ax.set_xlabel("kernel milliseconds per batch")
    ax.set_title(f"EfficientNet-Lite0 on ONNX Runtime (CPU), batch {profiles['fp32']['batch']}: "
                 "kernel time by operator kind", fontsize=9)
    ax.legend(fontsize=7, ncol=3, loc="lower right")
    fig.tight_layout()
else:
    print("the recorded benchmark has no operator profile; re-measure with the commands in "
          "demos/resnet50/results/README.md")

# %%
# The dense convolutions gain about three times from INT8, as the doubled math rate and the quartered
# bytes promise. The depthwise ones gain far less: a 3x3 window over one channel is nine multiply-adds per
# output, too few to fill the CPU's 8-bit dot-product instructions (which sum four products at a time
# across input channels, and a depthwise convolution has one), and the kernel spends its time reading and
# writing the activations. EfficientNet-Lite0 puts a large share of its FP32 time into depthwise layers, so
# they bound the form: the convolution time alone caps the speed-up near the printed ceiling. On a GPU,
# depthwise layers are memory-bound as well and gain from INT8 mostly through the bytes it saves. Networks
# made of dense convolutions, such as ResNet50, are the ones that gain the most from INT8.

# %%
# Copy this
# ---------
# A self-contained throughput measurement for one data type. It synchronizes before reading the clock
# (GPU work is asynchronous) and warms up first; on a GPU, pass ``device="cuda"`` and a large ``n``.

import time

import torch

from demos import provenance


def matmul_tflops(n: int, dtype: torch.dtype, device: str = "cuda",
                  repeats: int = 20) -> float:
    a = torch.randn(n, n, device=device).to(dtype)
    # column-major, as in x @ weight.T
    b = torch.randn(n, n, device=device).to(dtype).t()
    sync = torch.cuda.synchronize if a.is_cuda else (lambda: None)
    for _ in range(3):  # warm-up: clocks, library heuristics, lazy initialization
        a @ b
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync()  # without this the clock stops before the GPU has finished
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e12


# On the CPU that builds this page (a smoke test, not a GPU number):
print(f"fp32 n=256 on {provenance.cpu_model()}, PyTorch {torch.__version__}: "
      f"{matmul_tflops(256, torch.float32, device='cpu') * 1e3:.1f} GFLOPS")

# %%
# Common errors and fixes
# -----------------------
# * **Absurdly high TFLOPS.** The clock was read before the GPU finished: call
#   ``torch.cuda.synchronize()`` (or use CUDA events) before reading the time.
# * **The first measurement is slow.** It includes library initialization and kernel selection: warm up
#   before timing.
# * **FP32 is as fast as TF32, or TF32 as slow as FP32.** The precision setting decides:
#   ``torch.set_float32_matmul_precision("highest")`` is IEEE FP32, ``"high"`` allows TF32.
# * **"mat2 must be col_major" from** ``torch._scaled_mm``. FP8 GEMMs need the second operand column-major:
#   pass ``weight.t()`` of a contiguous tensor. ``torch._int_mm`` also needs more than 16 rows and sizes
#   that are multiples of 8.
# * **The measurement is half of the datasheet.** Datasheet Tensor Core rates include 2:4 sparsity; the dense
#   peak is half of the printed value.
# * **Unrealistically fast results.** Matrices of zeros draw less power and let the GPU hold a higher clock:
#   measure with random data.
# * **A CUDA graph returns the answer for an old input.** A graph replays fixed memory addresses: copy each
#   new input into the tensor that was captured (``static_input.copy_(x)``) before ``graph.replay()``, and
#   read the captured output tensor before the next replay overwrites it.
# * **The first** ``torch.compile`` **call takes a minute.** That is compilation (and, with
#   ``mode="reduce-overhead"``, the graph recording of the next calls). Time it apart and warm up before
#   measuring latency; a new batch size compiles again unless the model was compiled with dynamic shapes.
# * **p99 far above p50.** Something else competes for the GPU or for the CPU thread that launches the
#   kernels. Compare the host latency with the GPU time between events: when only the host time jumps, the
#   GPU was waiting for the host.
