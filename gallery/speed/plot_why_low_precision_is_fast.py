"""
Why low precision is fast
=========================

Lower precision speeds up inference for two reasons.
The GPU's tensor cores perform more multiply-adds per clock cycle on narrower numbers, and every value
that travels between memory and the chip takes fewer bytes.
This page measures both effects on a data-center GPU with PyTorch, sets the measurements next to
NVIDIA's datasheet, and works out whether ResNet50 is limited by arithmetic or by memory at each precision.

The GPU numbers were measured with ``python -m demos.gpu_speed`` on a GPU machine and committed as JSON
files.
This page is built on a CPU: it reads those files and prints, next to every number, the GPU, driver,
CUDA and PyTorch versions and the date of the measurement.
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

import matplotlib.pyplot as plt
import numpy as np
import torchvision

from demos.gpu_speed import analysis, datasheet, mlperf, results, roofline

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
    for p in analysis.place_resnet50(layers, roofs):
        print(f"  {p.precision:<10}{p.intensity:>8.0f}{p.ridge:>8.0f}  {p.bound:<14}{p.attainable:>10.0f}T"
              f"{p.images_per_second:>13,.0f}")

# %%
# From TF32 to FP16 to INT8, halving the element size doubles the intensity, and on the datasheet it also
# doubles the compute roof, so ResNet50 stays on the same side of the ridge.
# What changes is the height of the ceiling: INT8 can run up to twice as fast as FP16 whether the network
# is memory-bound or compute-bound.
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
ax.set_title(f"ResNet50 layers at batch {analysis.BATCH}, ridge points of {roofs.label}\n{caption}", fontsize=9)
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
# The PyTorch ladder and MLPerf
# -----------------------------
# The ResNet50 demo (``python -m demos.resnet50 bench``) measures ResNet50 inference in PyTorch on the same
# GPU at several precisions.
# The reference point is NVIDIA's own MLPerf Inference submissions for these GPUs: TensorRT engines in
# INT8 with hand-fused kernels, measured in MLPerf's Offline scenario (all images available at once,
# throughput only), on 8-GPU systems whose result is divided by 8 here.

ladder = analysis.resnet50_ladder()
if not ladder:
    print("No PyTorch ResNet50 ladder is committed yet (demos/resnet50/results/ has no GPU bench result); "
          "only the MLPerf reference is shown.")
for row in ladder:
    print(f"PyTorch ladder: {row['label']:<28} batch {row['batch']:>4}  {row['images_per_second']:>10,.0f} img/s"
          f"  [{row['provenance']}]")
for ref in mlperf.RESNET50_OFFLINE:
    print(f"MLPerf Inference {ref.round}, {ref.system}, {ref.software}, {ref.precision}, Offline: "
          f"{ref.samples_per_second:,.0f} samples/s for {ref.gpus} GPUs = {ref.per_gpu:,.0f} per GPU\n"
          f"  source: {ref.source}")
h100, h200 = mlperf.for_gpu("H100 SXM"), mlperf.for_gpu("H200 SXM")
sheets = datasheet.DATASHEETS
print(f"H200 / H100 per GPU: MLPerf {h200.per_gpu / h100.per_gpu:.2f}x; datasheet memory bandwidth "
      f"{sheets['H200 SXM'].memory_bandwidth_tbps / sheets['H100 SXM'].memory_bandwidth_tbps:.2f}x, "
      f"INT8 peak {sheets['H200 SXM'].dense_peak('int8') / sheets['H100 SXM'].dense_peak('int8'):.2f}x")

fig, ax = plt.subplots(figsize=(8, 3.6))
labels = [f"PyTorch {row['label']}, batch {row['batch']}\n{row['gpu']}" for row in ladder]
values = [row["images_per_second"] for row in ladder]
labels += [f"MLPerf {ref.round} TensorRT {ref.precision}\n{ref.gpu}, per GPU" for ref in mlperf.RESNET50_OFFLINE]
values += [ref.per_gpu for ref in mlperf.RESNET50_OFFLINE]
ax.barh(np.arange(len(values)), values, color=["C0"] * len(ladder) + ["0.6"] * len(mlperf.RESNET50_OFFLINE))
ax.set_yticks(np.arange(len(values)), labels, fontsize=8)
ax.invert_yaxis()
ax.set_xlabel("ResNet50 images per second")
ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
ax.set_title("ResNet50 throughput: PyTorch on our GPU vs MLPerf (TensorRT INT8)", fontsize=9)
fig.tight_layout()

# %%
# MLPerf's engines are the result of the whole toolbox: INT8 everywhere with calibrated scales,
# convolutions fused with their BatchNorm, activation and residual add, a plugin that runs the whole first
# residual stage in one kernel, data layouts chosen for the tensor cores, and large batches.
# The gap between that and framework code is what the rest of this tutorial is about.
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
# * **INT8** doubles the math rate and halves the bytes again, which is worth up to twice FP16's speed for
#   convolutional networks like ResNet50, memory-bound or not. It needs scales from calibration or
#   quantization-aware training, and a check of the accuracy (the INT8 pages show how).
# * **FP8** has the same speed and size as INT8 on Hopper. Its exponent bits cover a wider range with one
#   scale per tensor, which suits transformer activations with outliers; for CNNs with ReLU, INT8 is
#   usually as accurate and more widely supported (GPUs before Hopper and Ada have no FP8 tensor cores).
#
# Use the roofline to set expectations: a memory-bound network gains from every byte saved, a
# compute-bound one from every doubling of the math rate, and lower precision gives both.
#
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
