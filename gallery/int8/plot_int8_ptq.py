"""
INT8 post-training quantization: calibration data, calibrators and sensitive layers
===================================================================================

Post-training quantization (PTQ) turns a trained FP32 model into an INT8 model without training it again.
What it needs is *calibration*: representative images run through the model, so that every quantized
tensor gets a range (its amax, and from it the scale ``amax / 127``).
This page answers the questions that decide whether PTQ keeps the accuracy of a real model:

* how many calibration images are needed, and what happens when they do not look like the real input;
* which calibrator (max, percentile, entropy, mse) to use;
* how TensorRT 11 (explicit Q/DQ) differs from the TensorRT 10 calibrator with its calibration cache;
* which layers to keep out of INT8, and how to find them.

Every measurement uses EfficientNet-Lite0 with its real ImageNet weights and the ImageNet sample images of
this tutorial, with calibration and evaluation images kept apart.
TensorRT cannot run on the CPU machine that builds this page, so the INT8 models are evaluated with ONNX
Runtime with basic graph optimizations, which executes each Q/DQ model almost as written: every quantize
and dequantize step with the model's scales and rounding, the layers between them in float.
Even basic optimizations rewrite one thing: each Conv bias is stored as int32 at the scale of the layer's
input times its weight's, which saturates in a few channels (the Debugging precision page finds them).
TensorRT runs the same file with fused INT8 kernels that accumulate in INT32, so its numbers are expected
to be close to ONNX Runtime's but not identical; a section below measures how close two executions of one
Q/DQ file are, and names the command that checks TensorRT against ONNX Runtime on a GPU.
A small version of each experiment runs live while the page is built; the full-size study comes from
``python -m demos.resnet50.calib_study`` and is read from a committed JSON file with its provenance.
All code lives in ``demos/resnet50`` (``calib_study``, ``calibration``, ``qdq``, ``ptq``) and ``demos/trt``.
"""

# %%
# Implicit and explicit quantization
# ----------------------------------
# TensorRT has known two ways of running a network in INT8.
#
# *Implicit* quantization (TensorRT 10 and older) starts from an FP32 network.
# ``BuilderFlag.INT8`` allows INT8 kernels, and a calibrator object (``IInt8EntropyCalibrator2``) feeds
# calibration batches to the builder, which measures every tensor on the GPU and picks the ranges itself.
# The builder then decides layer by layer whether INT8 is faster, so which layers end up in INT8 is
# known only after the build.
# The ranges are saved as a *calibration cache*, a text file that later builds read instead of
# calibrating again.
#
# *Explicit* quantization puts the decision into the model: a ``QuantizeLinear``/``DequantizeLinear``
# pair (Q/DQ) in front of a layer says "quantize this tensor with this scale".
# TensorRT fuses each pair with the layer after it into an INT8 kernel, and leaves everything without Q/DQ
# in the precision the model gives it.
# TensorRT 11 supports only this form: ``BuilderFlag.INT8``, the ``IInt8*Calibrator`` classes and
# ``ITensor.set_dynamic_range`` are gone.
# Calibration moved out of TensorRT, into the tool that writes the Q/DQ nodes, here NVIDIA ModelOpt.
#
# The demo quantizes in two steps.
# ModelOpt's ONNX PTQ places the Q/DQ nodes the way TensorRT wants them (on the inputs and weights of every
# convolution and of the classifier; weights per output channel).
# The project's calibrators then compute one amax per activation from histograms of the FP32 model's
# activations and write ``amax / 127`` into those Q/DQ nodes, so all four calibrators are compared on the
# same placement.

import matplotlib.pyplot as plt
import numpy as np

from demos import files, gallery_cache, onnx_tools, qdq_placement
from demos.resnet50 import calib_study, qdq

art = gallery_cache.Artifacts("efficientnet_lite0")
fp32_path = art.fp32_onnx()
print("model:", art.spec.name, "|", art.spec.weights_label)
if not art.spec.real_weights:
    print("The pretrained weights are missing: accuracy figures below are meaningless on this build.")
calib = art.images("calib", count=50)
evals = art.images("eval", count=200)
print("calibration images:", calib.source)
print("evaluation images: ", evals.source)
overlap = {it.rel for it in calib.items} & {it.rel for it in evals.items}
print(f"images in both sets: {len(overlap)}")

place = calib_study.placement(fp32_path, art.workdir.path("int8_placement.onnx"), calib.array[:32])
qz = calib_study.Quantizer(fp32_path, place)
placement_model = onnx_tools.load(place)
ops = [n.op_type for n in placement_model.graph.node]
print(f"Q/DQ placement: {ops.count('QuantizeLinear')} QuantizeLinear nodes, {len(qz.tensors)} of them on "
      f"activations, the others on weights; {ops.count('Conv') + ops.count('Gemm')} Conv/Gemm layers")
sources = qdq_placement.activation_sources(placement_model)
print(f"what computes the {sum(sources.values())} quantized activations: "
      + ", ".join(f"{kind} {n}" for kind, n in sources.most_common()))

# %%
# The helpers below keep this page fast on a rebuild: every Q/DQ model is saved under
# ``build/gallery-cache`` and its logits are cached by the SHA-256 of the file and of the images.

ev = calib_study.Evaluator(evals.array, evals.labels, art.ort_logits(fp32_path, evals))
fp32_top1 = ev.score(ev.ref)


def histograms(x, key):
    """Activation histograms of the FP32 model over ``x``, cached under a key naming the images."""
    return qz.collect(x, cache=art.workdir.cache / f"int8_hist_{key[:16]}.npz", data_key=key)


def measure(name, amax, drop=()):
    """Write the Q/DQ model with ``amax`` (``drop``: layers left in FP32) and score it on the evaluation images."""
    model, report = qz.model(amax)
    if drop:
        calib_study.unquantize(model, drop)
    path = onnx_tools.save(model, art.workdir.path(f"int8_live_{name}.onnx"))
    return {**ev.score(art.ort_logits(path, evals)), "file": path, "kept": report["kept"]}


def line(label, r):
    lo, hi = r["top1_ci95"]
    return (f"{label:<38} top-1 {100 * r['top1']:5.1f}% [{100 * lo:4.1f}, {100 * hi:4.1f}]  "
            f"agreement with FP32 {100 * r['agreement_with_fp32']:5.1f}%  rel. L2 {r['rel_l2_vs_fp32']:.3f}")


print(line("FP32", fp32_top1))

# %%
# Four calibrators, measured
# --------------------------
# One pass of the FP32 model over the 50 calibration images fills a 2048-bin histogram per quantized
# activation.
# Each calibrator turns a histogram into an amax: **max** takes the largest magnitude, **percentile** the
# 99.99th percentile of the magnitudes, **entropy** the amax whose quantized histogram is closest to the
# original in Kullback-Leibler divergence (TensorRT's entropy calibration), **mse** the amax with the
# smallest squared quantization error.
#
# Each line reports top-1 accuracy with its 95 % confidence interval (Wilson), the share of images on
# which the INT8 model predicts the same class as FP32, and the relative L2 error of the logits.
# On 200 images the interval is several points wide, so this live run shows the method; the full-size
# study further down uses 500 evaluation images and repeats small calibration sets.

col50 = histograms(calib.array, calib.data_hash)
live = {}
for method in ("max", "entropy", "percentile", "mse"):
    live[method] = measure(f"{method}_50", qz.amax(col50, method))
    print(line(f"INT8 {method}, 50 calibration images", live[method]))

# %%
# Agreement with FP32 and the logit error react to the calibration long before top-1 accuracy does:
# they compare the INT8 model with FP32 on every image, not only where the label decides.
#
# The calibration data: how many images
# -------------------------------------
# A calibrator estimates a property of the input distribution from a sample.
# With 5 images the sample is small: ``max`` sees fewer extreme values and picks smaller ranges, while
# the histogram-based methods have less to work with.
# The live run calibrates ``max`` and ``entropy`` on the first 5 of the 50 images.

col5 = histograms(calib.array[:5], calib.data_hash + ":first5")
for method in ("max", "entropy"):
    print(line(f"INT8 {method}, 5 calibration images", measure(f"{method}_5", qz.amax(col5, method))))

# %%
# The full-size study
# ~~~~~~~~~~~~~~~~~~~
# The sample folder holds 1000 images, one per ImageNet class.
# The study splits them into 500 calibration images (the demo's calibration pool, topped up with the first
# images of its evaluation pool) and the 500 others for evaluation, so 500 calibration images are possible
# and no image is used for both.
# Calibration sets of 5, 10 and 50 images are drawn at random from the 500 and calibrated with ``max`` and
# ``entropy``, the two methods ModelOpt implements; all 500 images are calibrated with all four
# calibrators.
# Every evaluation of a Q/DQ model on 500 images takes tens of seconds on a CPU, so each small size is
# drawn once; one small draw can be lucky or unlucky, and a single draw is no proof.
# Each result is compared with FP32 on the same images by an exact McNemar test, which counts the images
# that only one of the two models gets right; a p-value below 0.05 marks a difference that 500 images can
# resolve.

study = files.read_json(calib_study.RESULT, "calibration study") if calib_study.RESULT.exists() else None
if study is None:
    print(f"No full-size study is committed ({calib_study.RESULT} is missing). Produce it with:\n"
          f"  {calib_study.COMMAND}")
else:
    prov = study["provenance"]
    print(f"{calib_study.RESULT.name}: {study['model']} ({study['weights']}); "
          f"{study['fp32']['images']} evaluation images; {prov['host']['cpu']} ({prov['host']['cpu_count']} cores), "
          f"onnxruntime {prov['versions']['onnxruntime']}, nvidia-modelopt {prov['versions']['nvidia-modelopt']}, "
          f"{prov['date'][:10]}\n  produced by: {study['command']}\n  execution: {study['execution']}")
    print(calib_study.count_table(study))

# %%
# The figure shows each result as a dot and the 95 % interval of the largest calibration set as a bar; the
# grey band is the interval of FP32 itself.

if study is not None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    calib_study.plot_counts(study, axes)
    fig.suptitle(f"{study['model']}, INT8 PTQ vs number of calibration images ({study['fp32']['images']} evaluation images)")
    fig.tight_layout()

# %%
# On this model the number of calibration images hardly moves top-1 accuracy: every INT8 result lies
# inside the confidence interval of FP32, and the McNemar column shows whether any difference is one that
# 500 images can resolve.
# Agreement with FP32, the finer measure, moves by a few points between calibrators and sizes without a
# clear trend in the number of images.
# EfficientNet-Lite0 was designed for integer inference.
# Of its 50 quantized activations, 32 come out of ReLU6 (the count at the top of this page, read from the
# Q/DQ model), and ReLU6 bounds them at 6 whatever the input, so most of the ranges are fixed by the
# architecture; the calibration set decides the other 18 (the model input, 9 residual sums, 7 projections
# and the classifier's input).
# Models with unbounded activations (ResNet50's ReLU, transformers) depend more on the calibration set.
#
# How many images, then?
# `NVIDIA's EfficientNet sample for TensorRT
# <https://github.com/NVIDIA/TensorRT/blob/main/samples/python/efficientnet/README.md>`_ asks for several
# thousand calibration images and calibrates on up to 25,000 by default ("for ImageNet networks, we have
# found that 25,000 images gives a good result"); the articles this tutorial started from suggest 100 to 500.
# Use a few hundred to a few thousand images from the deployment distribution: calibration is one
# forward pass over them, cheap next to training, and one small draw that happened to work here says
# nothing about the next one.
# This model gets away with the low end because ReLU6 fixes 32 of its 50 ranges; a model without such
# bounds needs the high end.
#
# Unrepresentative calibration data
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
# Calibration images must look like what the deployed model will see, after the same preprocessing.
# The study calibrates on three sets that do not: dog photos only (ImageNet classes 151-268, all taken
# from the calibration set), uniform mid-grey images, and images of random pixels, each with ``entropy``
# and the noise images also with ``max``.
# The live run repeats the noise case on 16 images.

noise = calib_study.synthetic_images("noise", 16, art.spec.preprocess, seed=0)
col_noise = histograms(noise, "noise-16-seed0-" + files.sha256_json(art.spec.preprocess.to_dict()))
for method in ("max", "entropy"):
    print(line(f"INT8 {method}, 16 noise images", measure(f"{method}_noise", qz.amax(col_noise, method))))
if study is not None:
    print()
    print(calib_study.unrepresentative_table(study))

# %%
# Dog photos calibrate about as well as the mixed set: photos of any class produce similar activation
# ranges, and a range does not care about labels.
# Blank images destroy the model: a constant image has no edges or texture, so most activations stay
# within tiny ranges, and on real images nearly every larger value is clipped.
# Random pixels do less damage than one might expect, because ReLU6 clips them to the same bound as real
# images, but ``entropy`` fits its range to the histogram of noise and agrees less with FP32.
# The failure to guard against is a broken input pipeline (grey frames, wrong normalization, garbage
# bytes) feeding the calibrator, more than the choice of classes.
#
# Layers to leave unquantized
# ---------------------------
# Some layers lose more than others when quantized: a layer whose input has a few large outliers (its
# amax is set by them, and the many small values share few steps), the first convolution that sees the
# image, a depthwise convolution with few weights per channel, the classifier that produces the logits.
# *Per-layer sensitivity* finds them by measurement: quantize one layer at a time, keep all others in FP32,
# and record the logit error that layer alone causes.
# ``calib_study.unquantize`` removes the Q/DQ pairs of the input and the weight of the chosen layers, which
# is exactly what keeping a layer in high precision means for TensorRT.
# The study ranks every one of the model's quantized layers this way on 16 evaluation images: the logit
# error is a continuous measure, so a small set ranks the layers even where top-1 could not.

if study is not None:
    sens = study["sensitivity"]
    ranked = sorted(sens["rows"], key=lambda r: -r["rel_l2_vs_fp32"])
    print(f"calibrator {sens['calibrator']}, {sens['images']} images; {sens['method']}")
    for r in ranked[:8]:
        print(f"  {', '.join(r['layers']):<28} input {r['tensor']:<14} rel. L2 {r['rel_l2_vs_fp32']:.4f}  "
              f"agreement {100 * r['agreement_with_fp32']:5.1f}%")
    print("largest errors: " + "; ".join(f"{calib_study.layer_role(r['layers'][0])} ({r['layers'][0]})"
                                         for r in ranked[:2]))
    fig, ax = plt.subplots(figsize=(8, 9))
    calib_study.plot_sensitivity(study, ax)
    fig.tight_layout()

# %%
# The errors are far from even: a few layers stand out, led by the two named in the last line above
# (in timm's names, ``blocks.<stage>.<block>``; ``conv_pwl`` is a block's projection convolution, ``conv_dw``
# its depthwise one), and the rest form a long flat tail.
# Sixteen images are enough to rank the layers, not to measure each error precisely; a ranking that
# decides a deployment deserves more images.
#
# Keeping the worst layers out of INT8
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
# The study then keeps the three most sensitive layers in FP32 and measures the whole model on all 500
# evaluation images.
# The live run does the same with the three worst layers of the committed ranking.

if study is not None:
    print(calib_study.keep_table(study))
    fig, ax = plt.subplots(figsize=(6, 3.6))
    calib_study.plot_keep(study, ax)
    fig.tight_layout()
    worst = [r["tensor"] for r in ranked[:3]]
    amax_live = qz.amax(col50, sens["calibrator"])
    print(line(f"INT8 {sens['calibrator']}, 50 images", measure(f"{sens['calibrator']}_50", amax_live)))
    print(line(f"  ... worst 3 layers in FP32", measure(f"{sens['calibrator']}_50_keep3", amax_live, worst)))

# %%
# Keeping the three worst layers in FP32 lowers the logit error and raises agreement with FP32, while top-1
# stays within what 500 images can resolve: on this model the INT8 loss was already too small for top-1 to
# show, and the finer measures are where the gain appears.
# On a model that does lose accuracy, this is the step to try before quantization-aware training.
#
# Keeping a layer out of INT8 costs speed: on the GPU it runs in FP16 or FP32 and TensorRT may need extra
# conversions around it, so keep only the layers that the measurement names.
# With ModelOpt, pass their node names as ``nodes_to_exclude`` (see the code to copy at the end).
#
# Where the Q/DQ nodes go, and what TensorRT does with them
# ---------------------------------------------------------
# TensorRT builds a Q/DQ network in three steps (NVIDIA's
# `Explicit Quantization <https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/quantized-types-explicit-quantization.html>`_).
#
# 1. It *propagates* the Q/DQ nodes: a DequantizeLinear moves forward, towards the output, and a
#    QuantizeLinear backward, towards the input, through layers that commute with quantization.
#    ReLU and MaxPool commute (the maximum of quantized values is the quantized maximum, with the same
#    scale), and so does a Concat whose inputs share one scale; after the move these layers run on INT8
#    data, and the Q/DQ pairs meet the layers they can fuse with.
# 2. It *fuses*: DequantizeLinear -> convolution -> activation -> QuantizeLinear becomes one INT8 kernel.
#    An Add right after a convolution joins that kernel when its other input, the skip connection,
#    arrives through a Q/DQ pair of its own.
#    The kernel's output is INT8 when a QuantizeLinear ends the chain; otherwise it writes float.
# 3. It times kernels for what is left, and never changes a precision on its own: a layer without Q/DQ
#    runs in the precision the model gives it.
#
# NVIDIA's placement recommendations follow from this.
# Quantize every input of a weighted layer (Conv, Gemm, MatMul), weights per output channel and
# activations per tensor.
# Do not quantize the outputs of weighted layers: the Q on the next layer's input does it, and TensorRT
# fuses it backwards.
# Quantize the residual input of an Add, so that the Add fuses into the convolution before it; without
# it, that convolution writes float and the Add runs on its own.
# Do not put extra Q/DQ pairs between layers TensorRT fuses anyway (a convolution and its activation or
# BatchNorm): each extra pair splits a fusion.
#
# The code below checks all of this on the Q/DQ model that ModelOpt placed and the entropy calibrator
# scaled (the live run above): it counts the layers by what surrounds them and draws one residual block
# of the graph with the kernels its placement allows.

entropy_model = onnx_tools.load(live["entropy"]["file"])
counts = qdq_placement.op_counts(entropy_model)
print(f"ops: {counts['QuantizeLinear']} QuantizeLinear, {counts['DequantizeLinear']} DequantizeLinear, "
      f"{counts['Conv']} Conv, {counts['Gemm']} Gemm, {counts['Clip']} Clip, {counts['Add']} Add, "
      f"{counts['MaxPool']} MaxPool, {counts['Concat']} Concat")
weighted = qdq_placement.layers(entropy_model)
print(f"{len(weighted)} weighted layers, {sum(w.int8 for w in weighted)} with INT8 input and weights:")
from collections import Counter

for (act, out), n in sorted(Counter((w.activation, w.output) for w in weighted).items(), key=lambda kv: -kv[1]):
    print(f"  {n:>2} x  {'+ ' + act if act else 'no activation':<14} -> output to {out}")
adds = qdq_placement.residual_adds(entropy_model)
print(f"{len(adds)} residual adds; skip input through Q/DQ in {sum(any(i['quantized'] for i in a['inputs']) for a in adds)}, "
      f"branch input from {Counter(i['from'] for a in adds for i in a['inputs'] if not i['quantized'])}")
fig, ax = plt.subplots(figsize=(12, 2.8))
drawn = qdq_placement.draw_chain(ax, entropy_model, adds[0]["output"])
ax.set_title(f"Q/DQ placement of one EfficientNet-Lite0 residual block ({adds[0]['name']}) and the kernels "
             "TensorRT's fusion rules allow (read from the graph, not built)", fontsize=9)
fig.tight_layout()

# %%
# Of the 50 INT8 layers, 48 can write INT8 directly, because a QuantizeLinear follows them: the 32
# convolutions with ReLU6, the 7 projections that feed the next block, and the 9 projections that end in
# a residual add.
# ModelOpt quantizes every skip connection: the Add reads it through the same Q/DQ pair as the next
# block's first convolution, so the Add can join the projection's kernel, as NVIDIA recommends.
# Two layers write float: the last convolution before the global average pool, which has no Q/DQ, and the
# classifier, whose output is the model's.
# The model has no MaxPool and no Concat, so propagation only meets ReLU6, which TensorRT fuses into the
# convolution anyway; in ResNet50 the MaxPool after the first convolution is where it matters, and a Q/DQ
# pair on its input or output lets it run in INT8.
# The QAT page checks the residual Q/DQ of its own exported graphs the same way.
#
# What ONNX Runtime reproduces, and what it does not
# --------------------------------------------------
# With basic optimizations ONNX Runtime executes a Q/DQ file almost as written: the same quantized tensors,
# the same scales, the same rounding (half to even) and saturation at every QuantizeLinear, with the layers
# between them in FP32 (the one exception, the Conv biases, comes below).
# It does not reproduce how TensorRT computes: TensorRT fuses each convolution with its activation and the
# next quantization, multiplies INT8 by INT8 and accumulates in INT32, rescales once per output, and moves
# Q/DQ nodes as described above.
# Both compute the same function up to rounding, but rounding is exactly what INT8 amplifies: a value
# that lands near the midpoint between two INT8 steps can go either way, and that step propagates.
# NVIDIA does not promise that an engine's INT8 results are bitwise identical to any emulation.
#
# How far apart can two faithful executions of one Q/DQ file be? ONNX Runtime answers that itself: with
# all graph optimizations it fuses convolutions with their activations and runs some layers with its own
# integer kernels, with basic optimizations it does neither.
# The live entropy model on the 200 evaluation images, both ways:

import onnxruntime

from demos import provenance
from demos.resnet50 import RESULTS

entropy_file = live["entropy"]["file"]
key = {"onnx_sha256": files.sha256_file(entropy_file), "data_sha256": evals.data_hash,
       "onnxruntime": onnxruntime.__version__, "optimization": "all"}
cache = art.workdir.cache / f"int8_ort_all_{key['onnx_sha256'][:12]}_{evals.data_hash[:12]}.npz"
hit = files.load_cache(cache, key)
if hit is None:
    sess = onnx_tools.session(entropy_file, optimization="all")
    logits_all = np.concatenate([onnx_tools.run(sess, evals.array[i:i + 32]) for i in range(0, len(evals.array), 32)])
    files.save_cache(cache, key, {"logits": logits_all})
else:
    logits_all = hit[0]["logits"]
logits_basic = art.ort_logits(entropy_file, evals)  # the page's INT8 numbers: basic optimizations
two_runs = np.linalg.norm(logits_all - logits_basic) / np.linalg.norm(logits_basic)
same_class = float(np.mean(logits_all.argmax(1) == logits_basic.argmax(1)))
print(f"ONNX Runtime {onnxruntime.__version__}, CPU {provenance.cpu_model()} "
      f"(INT8 dot-product instructions: {', '.join(provenance.int8_dot_product(provenance.cpu_flags())) or 'none'})")
print(f"same Q/DQ file, all vs basic optimizations: rel. L2 {two_runs:.3f}, same top-1 class on "
      f"{100 * same_class:.1f}% of {len(logits_basic)} images")
print(f"for scale, INT8 (basic) vs FP32:            rel. L2 {live['entropy']['rel_l2_vs_fp32']:.3f}")
qat_record = RESULTS / "cpu_efficientnet_lite0" / "qat_int8_qat.json"
if qat_record.exists():
    check = files.read_json(qat_record, "QAT record")["export_check"]
    print(f"committed QAT run (demos/resnet50/results/{qat_record.parent.name}/{qat_record.name}): exported Q/DQ model on ONNX Runtime "
          f"vs the PyTorch fake-quant model it came from: rel. L2 {check['rel_l2_vs_torch_fakequant']:.3f}, "
          f"same top-1 class on {100 * check['agreement']:.0f}% of its check images")
overflow = qdq_placement.int32_bias_overflow(entropy_model)
print(f"Conv biases that ONNX Runtime's optimizer stores as saturated int32: {sum(len(o['channels']) for o in overflow)} "
      f"channels in {len(overflow)} layers")

# %%
# Two executions of the same file by the same library differ by a few percent of the logits' norm, a
# fraction of what INT8 itself changes, and on this data they pick the same class nearly everywhere; the
# PyTorch fake-quant model and its exported ONNX file, checked by the demo's ``qat`` stage, differ by a
# similar amount.
# TensorRT's engine is one more execution of the same kind, so we expect its logits to differ from ONNX
# Runtime's by a similar amount, and its accuracy to match within the confidence intervals above.
# That is an expectation, not a measurement: no TensorRT ran for this page.
# Check it on a GPU with ``polygraphy run int8.onnx --trt --strongly-typed --onnxrt
# --graph-optimization-level ORT_DISABLE_ALL``, which runs one Q/DQ file with both and compares the outputs
# (the Debugging precision page shows the whole command), and by evaluating the engine on the evaluation
# images.
# One difference is ONNX Runtime's own: its optimizer stores each Conv bias as ``int32`` at scale
# ``s_x * s_w`` and saturates the few channels whose bias does not fit; the Debugging precision page
# finds them layer by layer, and shows that they do not change this model's output.
#
# TensorRT 11: build the Q/DQ model
# ---------------------------------
# The Q/DQ ONNX file is the whole deployment artefact: TensorRT 11 parses it into a strongly typed network
# and builds it without flags or calibrators.
# ``demos.trt.builder`` does this for TensorRT 11, TensorRT 10 and TensorRT-RTX; it runs here when
# ``import tensorrt`` works and a GPU is present.

from demos.errors import MissingRuntime
from demos.trt import builder, loader, rtx_build

best_qdq = live["entropy"]["file"]
try:
    trt = loader.tensorrt()
    plan, info = builder.build(trt, best_qdq, builder.BuildOptions("trt11" if loader.major(trt) >= 11 else "trt10"))
    print(f"TensorRT {trt.__version__}: built {best_qdq.name}, {info['layers']} layers, {len(plan) / 2**20:.1f} MiB")
except MissingRuntime as exc:
    print(f"skipped: building {best_qdq.name} with TensorRT ({exc})")

# %%
# TensorRT 10: the legacy calibrator, whole
# -----------------------------------------
# Implicit quantization is what most deployed TensorRT code still does, and TensorRT 10 still supports it.
# The recipe: parse the FP32 model into a weakly typed network, set ``BuilderFlag.INT8``, and give the
# builder config a calibrator, an object that TensorRT asks for calibration batches during the build.
# ``IInt8EntropyCalibrator2`` is the one to use for CNNs: TensorRT runs the batches through the network on
# the GPU and picks each tensor's range with its entropy method.
#
# The calibrator classes of older articles, including the ones this tutorial started from, are often
# wrong in ways that still run:
#
# * ``get_batch`` must return *device* pointers, one per network input: a NumPy array (host memory) is
#   not a device pointer. The class below copies each batch into one CUDA buffer, allocated once.
# * ``get_batch`` must return ``None`` when the data is exhausted; that ends calibration. A last batch with
#   fewer images than ``get_batch_size()`` is dropped, since the calibration profile fixes the shape.
# * ``read_calibration_cache`` that always returns ``None`` recalibrates on every build. Returning the
#   saved cache skips calibration, but the cache is valid only for the network, TensorRT version and batch
#   size that wrote it, and TensorRT cannot tell: a cache of another model is used without a word, with
#   wrong scales. The class below writes a key file beside the cache (the ONNX file's SHA-256, the TensorRT
#   version, the batch size and the algorithm) and returns the cache only when that key matches.
# * ``builder.build_engine`` and ``config.max_workspace_size`` are gone since TensorRT 10; build with
#   ``build_serialized_network`` and set the workspace with ``set_memory_pool_limit``.
# * A network with a dynamic batch axis needs a calibration profile (``set_calibration_profile``);
#   calibration runs at its ``opt`` shape.
#
# This is the same calibrator as ``demos.trt.legacy``, which the demo's ``ptq --trt10-legacy`` stage
# uses; the tests run both with a stand-in for TensorRT's base class and check that they hand TensorRT
# the same batches, write the same cache and key, and reuse or refuse a cache in the same cases.
# The code is checked against TensorRT 10's Python API by the tests; it runs only where TensorRT 10 and
# a GPU are present.

import hashlib
import json
from pathlib import Path


def calibration_key(trt, onnx_path, batch_size):
    """What a calibration cache is valid for: this network, this TensorRT version, this batch size."""
    return {"onnx_sha256": hashlib.sha256(Path(onnx_path).read_bytes()).hexdigest(),
            "tensorrt_version": trt.__version__, "batch_size": batch_size, "algorithm": "EntropyCalibration2"}


def make_entropy_calibrator(trt, batches, batch_size, cache_path, key):
    """TensorRT 10: an IInt8EntropyCalibrator2 that feeds ``batches`` (float32 NCHW arrays of ``batch_size``
    images, preprocessed like inference) to the builder through one CUDA buffer, and caches its result
    with ``key`` (``calibration_key``) in ``<cache_path>.json`` beside it."""
    import torch

    if not hasattr(trt, "IInt8EntropyCalibrator2"):
        raise RuntimeError(f"TensorRT {trt.__version__} has no calibrators (removed in TensorRT 11)")
    cache_path = Path(cache_path)
    key_path = Path(f"{cache_path}.json")

    def write_atomically(path, data):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # never leave a half-written file behind

    class EntropyCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self):
            trt.IInt8EntropyCalibrator2.__init__(self)  # pybind11 needs the base __init__ called explicitly
            self.batches = iter(batches)
            self.device = None  # one CUDA buffer, allocated at the first batch and reused
            self.seen = 0

        def get_batch_size(self):
            return batch_size

        def get_batch(self, names):
            x = next(self.batches, None)
            if x is None or len(x) != batch_size:
                return None  # calibration ends (a short last batch is dropped: the profile fixes the shape)
            host = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
            if self.device is None:
                self.device = torch.empty_like(host, device="cuda")
            self.device.copy_(host)
            self.seen += len(x)
            return [int(self.device.data_ptr())]  # one device pointer per network input

        def read_calibration_cache(self):
            # A cache skips calibration; TensorRT would take one of another network or version without
            # a word, so it is returned only when its key file says it was written for this build.
            try:
                if cache_path.is_file() and json.loads(key_path.read_text()) == key:
                    return cache_path.read_bytes()
            except (OSError, ValueError):  # no key file, or an unreadable one: calibrate again
                pass
            return None

        def write_calibration_cache(self, cache):
            write_atomically(cache_path, bytes(cache))
            write_atomically(key_path, json.dumps(key, indent=1).encode())  # after the cache it vouches for

    return EntropyCalibrator()


def build_implicit_int8_engine(onnx_path, plan_path, batches, batch_size, cache_path, max_batch=256):
    """TensorRT 10: FP32 ONNX + BuilderFlag.INT8 + the entropy calibrator -> an implicitly quantized engine.
    Returns how many images were calibrated (0 when the cache was reused)."""
    import tensorrt as trt

    if not hasattr(trt.BuilderFlag, "INT8"):
        raise RuntimeError(f"TensorRT {trt.__version__} has no implicit quantization; build a Q/DQ model instead")
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # weakly typed: TensorRT chooses each layer's precision
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        raise RuntimeError("; ".join(str(parser.get_error(i).desc()) for i in range(parser.num_errors)))
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 4 << 30)
    config.set_flag(trt.BuilderFlag.INT8)
    config.set_flag(trt.BuilderFlag.FP16)  # where INT8 does not pay off, FP16 rather than FP32
    inp = network.get_input(0)
    dims = tuple(inp.shape)[1:]
    profile = builder.create_optimization_profile()
    profile.set_shape(inp.name, (1, *dims), (batch_size, *dims), (max_batch, *dims))
    config.add_optimization_profile(profile)
    config.set_calibration_profile(profile)  # calibrate at the opt shape: batch_size images
    key = calibration_key(trt, onnx_path, batch_size)
    calibrator = make_entropy_calibrator(trt, batches, batch_size, cache_path, key)
    config.int8_calibrator = calibrator
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise RuntimeError(f"TensorRT could not build {onnx_path}")
    Path(plan_path).write_bytes(bytes(plan))
    return calibrator.seen


if not loader.available():
    why = loader.missing_reason()
elif loader.major(loader.tensorrt()) >= 11:
    why = f"TensorRT {loader.tensorrt().__version__} has no calibrators; the Q/DQ build above is its INT8 path"
else:
    why = loader.gpu_reason()
if why:
    print(f"skipped: TensorRT 10 implicit INT8 build with the entropy calibrator ({why})")
else:
    batches = (calib.array[i:i + 8] for i in range(0, len(calib.array), 8))
    seen = build_implicit_int8_engine(fp32_path, art.workdir.path("int8_legacy.trt.plan"), batches, 8,
                                      art.workdir.path("int8_legacy.calib.cache"))
    print(f"TensorRT 10 implicit INT8 engine: {seen} images calibrated, cache {art.workdir.path('int8_legacy.calib.cache')}")

# %%
# The calibration cache TensorRT writes is plain text: a header with TensorRT's version code and the
# calibrator (``TRT-101601-EntropyCalibration2`` for TensorRT 10.16.1), then one line per tensor of the
# network with its scale as the hexadecimal bytes of a big-endian float32.
# The demo writes the amax of its Q/DQ activations in the same format (``qdq.calibration_cache_text``),
# next to each model of the ``ptq`` stage: a file to read, and to import into ModelOpt with
# ``calibration_cache_path``.
# It is not a cache for TensorRT's calibrator, which needs a scale for every tensor of its network, and
# its header names the installed TensorRT version, or 0 where none is installed (as on this machine):
# TensorRT ignores a cache from another version and calibrates again.
# A TensorRT 10 build reads the cache that TensorRT itself wrote, such as the ``trt10_entropy.calib.cache``
# of ``ptq --trt10-legacy``.
# Here are the live entropy calibration's ranges in that format, written and read back:

amax_entropy = qz.amax(col50, "entropy")
cache_path = files.write_text(art.workdir.path("int8_live_entropy.calib.cache"), qdq.calibration_cache_text(amax_entropy))
text = cache_path.read_text()
print("\n".join(text.splitlines()[:6]) + f"\n... ({len(text.splitlines()) - 1} tensors)")
back = qdq.parse_calibration_cache(text)
worst_rel = max(abs(back[t] - a) / a for t, a in amax_entropy.items())
print(f"read back: {len(back)} tensors, largest relative difference {worst_rel:.1e} (float32 rounding)")

# %%
# TensorRT-RTX: the Q/DQ model builds
# -----------------------------------
# TensorRT-RTX compiles plans ahead of time on any machine, including this CPU-only one, so the Q/DQ model
# is parsed and built here for real (the plan runs only on the GPUs TensorRT-RTX supports).

try:
    rtx = rtx_build.build_plan(best_qdq, art.workdir.path("int8_live_entropy.rtx.plan"), 1, 8, 32)
    print(f"TensorRT-RTX {rtx_build.version()}: {best_qdq.name} -> plan of {rtx['plan_bytes'] / 2**20:.1f} MiB, "
          f"{rtx['layers']} network layers; FP32 ONNX file {fp32_path.stat().st_size / 2**20:.1f} MiB")
except MissingRuntime as exc:
    print(f"skipped: TensorRT-RTX build ({exc})")

# %%
# Copy this
# ---------
# The recipe on your own model: ModelOpt places the Q/DQ nodes and calibrates (``entropy`` or ``max``;
# ModelOpt's ONNX PTQ has no mse, and runs max when asked for percentile), the sensitive layers are
# excluded by node name, and TensorRT 11 builds the result as a strongly typed network.
# ``quantize`` rewrites the file it is given, so it gets a copy.
# Here it runs on the page's model with ``max`` (the faster of the two on a CPU) and 32 images, with the
# three layers the study found most sensitive excluded. The block is complete: with the tutorial's
# package installed it runs as it is; put your own model, images and layer names in their place.

import shutil
import tempfile
from pathlib import Path

import onnx

from demos import files, gallery_cache
from demos.resnet50 import calib_study


def quantize_int8(fp32_onnx, calib_images, out_onnx, method="entropy", exclude=()):
    """Q/DQ INT8 ONNX for TensorRT with ModelOpt.

    calib_images: float32 NCHW, preprocessed exactly like the inference inputs.
    """
    from modelopt.onnx.quantization import quantize

    name = onnx.load(str(fp32_onnx), load_external_data=False).graph.input[0].name
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "model.onnx"
        shutil.copyfile(fp32_onnx, copy)  # quantize() rewrites its input
        quantize(str(copy), quantize_mode="int8", calibration_method=method,
                 calibration_data={name: calib_images}, nodes_to_exclude=list(exclude),
                 high_precision_dtype="fp16", output_path=str(out_onnx),
                 log_level="WARNING")
    return Path(out_onnx)


def node_names_reading(onnx_path, weights):
    """ONNX node names of the layers whose weight initializers are in ``weights``."""
    graph = onnx.load(str(onnx_path)).graph
    wanted = set(weights)
    return [n.name for n in graph.node if len(n.input) > 1 and n.input[1] in wanted]


def build_int8_engine(qdq_onnx, plan_path, batch=(1, 32, 256)):
    """TensorRT 11 (and 10): strongly typed network; the scales come from the model."""
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flag = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flag)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(qdq_onnx)):
        errors = (str(parser.get_error(i).desc()) for i in range(parser.num_errors))
        raise RuntimeError("; ".join(errors))
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 4 << 30)
    profile = None  # only an input with a dynamic batch axis needs one
    for i in range(network.num_inputs):
        inp = network.get_input(i)
        if inp.shape[0] >= 0:
            continue
        dims = tuple(inp.shape)[1:]
        if profile is None:
            profile = builder.create_optimization_profile()
        profile.set_shape(inp.name, *[(b, *dims) for b in batch])  # min, opt, max
    if profile is not None:
        config.add_optimization_profile(profile)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise RuntimeError(f"TensorRT could not build {qdq_onnx}")
    Path(plan_path).write_bytes(bytes(plan))
    return Path(plan_path)


art = gallery_cache.Artifacts("efficientnet_lite0")  # the page's model and images
fp32_model = art.fp32_onnx()
images = art.images("calib", count=32).array
# The three most sensitive layers of the committed study (a file in the package).
rows = files.read_json(calib_study.RESULT, "calibration study")["sensitivity"]["rows"]
worst = sorted(rows, key=lambda r: -r["rel_l2_vs_fp32"])[:3]
exclude = node_names_reading(fp32_model, [r["layers"][0] + ".weight" for r in worst])
print("excluded nodes:", exclude)
with tempfile.TemporaryDirectory() as tmp:
    out = Path(tmp) / "model_int8.onnx"
    quantize_int8(fp32_model, images, out, "max", exclude)
    q_nodes = sum(n.op_type == "QuantizeLinear" for n in onnx.load(str(out)).graph.node)
    print(f"{out.name}: {q_nodes} QuantizeLinear nodes")
    try:
        build_int8_engine(out, Path(tmp) / "model_int8.plan")
        print("build_int8_engine: plan written")
    except ImportError as exc:
        print(f"skipped: build_int8_engine ({exc.__class__.__name__}: tensorrt is "
              "not installed here); the TensorRT-RTX build above shows that a Q/DQ "
              "model of this form parses and builds")

# %%
# Common errors and fixes
# -----------------------
# * ``AttributeError: ... has no attribute 'INT8'`` (``BuilderFlag.INT8``) or ``'IInt8EntropyCalibrator2'``
#   on TensorRT 11: implicit quantization was removed.
#   Quantize the ONNX model with Q/DQ (ModelOpt, as above) and build it as it is, without flags.
#   An existing calibration cache need not be thrown away: ModelOpt reads it with
#   ``calibration_cache_path``.
# * ``AttributeError: ... has no attribute 'set_dynamic_range'`` on TensorRT 11: per-tensor ranges are now
#   the scales of Q/DQ nodes, ``scale = amax / 127``; ``qdq.write_amax`` writes them into a model.
# * Older articles call ``builder.build_engine(network, config)`` and set ``config.max_workspace_size``;
#   both are gone since TensorRT 10.
#   Use ``build_serialized_network`` and ``set_memory_pool_limit(MemoryPoolType.WORKSPACE, ...)``.
# * Accuracy drops after INT8: first check the calibration images (enough of them, from the deployment
#   distribution, preprocessed exactly like inference; not blank, not synthetic), then the calibrator, then
#   run the per-layer sensitivity and keep the worst few layers in high precision.
#   If that is not enough, quantization-aware training is the next step.
# * A TensorRT 10 calibration cache gives wrong results or is ignored: it belongs to one network (tensor
#   names) and one TensorRT version (its header); delete it after changing either, and calibrate again.
# * ModelOpt's ``quantize`` changed the FP32 file: it rewrites its input; give it a copy.
# * ``ERROR - Failed to get GPU count: NVML Shared Library Not Found`` from ModelOpt's ``quantize`` on a
#   machine without an NVIDIA driver: harmless.
#   ModelOpt 0.47 logs it while it counts GPUs and then calibrates on the CPU.
#   The pages of this site and the demo's ``ptq`` stage show a one-line ``note:`` in its place; in your own
#   script, ``demos.quiet.install()`` does the same (it also drops the ``Inserted N quantizers`` line that
#   ModelOpt's torch ``quantize`` prints).
# * ModelOpt ``calibration_method="percentile"`` gives the same model as ``max``: its ONNX INT8 PTQ
#   implements max and entropy only; compute other ranges yourself and write them into the Q/DQ scales.
# * The INT8 model looks much worse on ONNX Runtime CPU than expected: with all graph optimizations ORT
#   replaces the Q/DQ pattern with its own integer kernels, which saturate on CPUs without VNNI; evaluate
#   TensorRT Q/DQ models with basic optimizations (``demos.resnet50.evaluate`` does).
