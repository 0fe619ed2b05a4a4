"""
Quantization-aware training: when PTQ is not enough
===================================================

Post-training quantization (PTQ) calibrates scales on a few hundred images and changes no weight. Often
that is all it takes; sometimes the rounding costs accuracy that calibration cannot win back. Then
quantization-aware training (QAT) fine-tunes the network *through* fake quantizers, so that the weights
learn to live on the INT8 grid.

This page finds a real case where PTQ loses accuracy on a real pretrained network (EfficientNet-Lite0 with
its ImageNet weights), fine-tunes it with QAT following NVIDIA's recipe and measures what comes back, places
Q/DQ nodes around residual adds the way TensorRT wants them, exports a Q/DQ ONNX model and builds it. The tool is NVIDIA ModelOpt
(``modelopt.torch.quantization``); its retired predecessor was ``pytorch-quantization``.

Everything runs on a CPU when the site is built, on a small budget: the network is fine-tuned on the
*calibration* images of the sample folder (never on the evaluation images) and measured on the first
evaluation images. The same run over all evaluation images was recorded with
``python -m demos.resnet50.qat`` and is read from its committed JSON file. The code lives in
``demos/resnet50/qat.py``; this page imports it.
"""

# %%
# PTQ first
# ---------
# QAT costs a training pipeline, so it starts where PTQ ends. The ResNet50 demo's recorded CPU run on
# EfficientNet-Lite0 shows the usual outcome: with ModelOpt's default INT8 configuration (one weight scale
# per output channel, one scale per activation tensor) PTQ is within noise of FP32, and QAT has nothing to
# recover.

import collections
import copy
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from demos import files, gallery_cache, models
from demos.resnet50 import qat

warnings.simplefilter("ignore")  # tracer and optional-package warnings of the libraries: noise on this page
from demos.resnet50 import RESULTS
report = files.read_json(RESULTS / "cpu_efficientnet_lite0" / "report.json", "recorded CPU report")
rows = {r["variant"]: r for r in report["rows"]}
for name in ("fp32", "int8_max", "int8_qat"):
    r = rows[name]
    print(f"{r['precision']:<13} top-1 {r['top1']:.2%}  agreement with FP32 {r['agreement']:.2%}  "
          f"({r['images']} evaluation images, {report['weights']})")
prov = report["provenance"]["report"]
print(f"recorded by python -m demos.resnet50 (ptq, qat, eval, report) on {prov['host']['cpu']}, "
      f"{prov['date'][:10]}, ModelOpt {prov['versions']['nvidia-modelopt']}, "
      f"ONNX Runtime {prov['versions']['onnxruntime']}")

# %%
# A configuration where PTQ fails
# -------------------------------
# The classic failure of INT8 PTQ on MobileNet-style networks is the depthwise convolution with a single
# weight scale for the whole tensor. A depthwise convolution has one small 3x3 filter per channel, and
# once BatchNorm is folded into it (as every deployment graph does: the ONNX exporter and TensorRT both
# fold it) each filter is multiplied by its channel's BatchNorm factor. The filters' ranges then differ a
# lot, and one scale sized for the largest leaves the small ones with a handful of INT8 levels.
#
# TensorRT itself takes per-channel weight scales, so on TensorRT keep them. Per-tensor weight scales
# still show up: accelerators and converters that only accept them, or a model quantized that way for
# another target. Below, the folded depthwise weights of the real network: for each layer, how far the
# largest channel's range is from the median one.

art = gallery_cache.Artifacts("efficientnet_lite0")
model = copy.deepcopy(art.module)  # the shared module stays unfolded
folded = qat.fold_batchnorm(model)
depthwise = qat.depthwise_convs(model)
print(f"{art.spec.name}, weights: {art.spec.weights_label}")
print(f"BatchNorm layers folded into convolutions: {folded}; depthwise convolutions: {len(depthwise)}")
modules = dict(model.named_modules())
ratio = []
for name in depthwise:
    amax = modules[name].weight.detach().abs().amax(dim=(1, 2, 3))
    ratio.append(float(amax.max() / amax.median()))
worst = int(np.argmax(ratio))
print(f"largest / median channel range: from {min(ratio):.1f}x to {max(ratio):.1f}x ({depthwise[worst]}); "
      f"with one scale per tensor the median channel keeps about {127 / max(ratio):.0f} of 127 levels there")

fig, ax = plt.subplots(figsize=(7, 2.8))
ax.bar(range(len(ratio)), ratio, color="tab:red")
ax.set_xticks(range(len(ratio)), [n.removeprefix("blocks.").removesuffix(".conv_dw") for n in depthwise],
              rotation=60, fontsize=7)
ax.set_ylabel("largest / median\nchannel |w| max")
ax.set_title("EfficientNet-Lite0 depthwise convolutions, BatchNorm folded", fontsize=9)
fig.tight_layout()

# %%
# PTQ with that configuration
# ---------------------------
# ``qat.quant_config("per-tensor-depthwise", ...)`` is ModelOpt's ``INT8_DEFAULT_CFG`` with one more
# entry: the weight quantizers of the depthwise convolutions get ``axis=None`` (a single scale). Later
# entries of ``quant_cfg`` override earlier ones. ``qat.calibrate`` calls ``mtq.quantize``, which replaces
# the convolutions with quantized versions holding fake quantizers and calibrates them with ``max`` on
# the calibration images.
#
# ``qat.study`` then measures FP32, PTQ and, after fine-tuning (the next sections), QAT on the same
# evaluation images. The fine-tuning images are all 178 images of the calibration pool; the first 64 of
# them calibrate. The result and the exported QAT model are cached under ``build/gallery-cache/qat``,
# keyed by the code, the data and the library versions.

train = art.images("calib")
evaluation = art.images("eval", count=200)
print(f"fine-tuning and calibration: {train.source}")
print(f"evaluation: {evaluation.source}")
settings = {"weight_scales": "per-tensor-depthwise", "fold_bn": True, "calib_count": 64, "epochs": 4,
            "batch": 16, "lr": 1e-5, "optimizer": "adam", "progress": False}
record, arrays, qat_onnx = qat.cached_study(gallery_cache.CACHE_ROOT / "qat", train, evaluation, **settings)
m = record["metrics"]
print(f"config: {record['config']}, BatchNorm folded: {record['batchnorm_folded']} layers")
for name in ("fp32", "ptq"):
    print(f"{name.upper():<4} top-1 {m[name]['top1']:.2%}  top-5 {m[name]['top5']:.2%}  "
          f"agreement with FP32 {m[name]['agreement_top1_with_fp32']:.2%}  ({m[name]['images']} images)")

# %%
# Fake quantization in training
# -----------------------------
# The quantized model is still a float model: each quantizer rounds its tensor to the INT8 grid and
# scales it back (quantize, then dequantize), so the forward pass sees the rounding error and the usual
# training machinery still works. Rounding has a zero derivative almost everywhere, so the backward pass
# uses the straight-through estimator (STE) instead. It comes in two variants, and
# :doc:`../concepts/plot_fake_quant_ste` builds both by hand: the plain STE passes the gradient through
# unchanged everywhere, and the clipped STE passes it only inside the clipping range ``[-amax, amax]`` and
# blocks it outside. ModelOpt's ``TensorQuantizer`` uses the plain one by default (its
# ``pass_through_bwd=True``, which also saves memory: the input need not be kept for the backward pass);
# ``pass_through_bwd=False`` in the quantizer configuration selects the clipped one. This page trains with
# the default. Here are the two quantizers of one depthwise convolution after calibration, and the gradient
# through the input quantizer for a tensor that goes beyond its ``amax``:

qmodel = qat.calibrate(copy.deepcopy(model), train.array[:8], "per-tensor-depthwise")
conv = dict(qmodel.named_modules())[depthwise[worst]]
print(f"{depthwise[worst]}: {type(conv).__name__}")
print(f"  input_quantizer:  {conv.input_quantizer}")
print(f"  weight_quantizer: {conv.weight_quantizer}")
wq = conv.weight_quantizer(conv.weight.detach())
print(f"  distinct INT8 levels used by the weights: {torch.unique(wq).numel()}")
amax_in = float(conv.input_quantizer.amax)
a = torch.linspace(-2 * amax_in, 2 * amax_in, 101).requires_grad_()
aq = conv.input_quantizer(a)
aq.sum().backward()
outside = a.detach().abs() > amax_in
print(f"  input quantizer, 101 values from -2 amax to 2 amax: {int(outside.sum())} of them are clipped to "
      f"+-amax in the forward pass; gradient 1 for {int((a.grad == 1).sum())} of 101, clipped ones included")
del qmodel

# %%
# The recipe
# ----------
# NVIDIA's guidance for QAT (the pytorch-quantization user guide, carried over to ModelOpt's QAT
# examples) is short:
#
# * start from the trained model, calibrated: QAT is fine-tuning, not training from scratch;
# * fine-tune for about 10% of the original training schedule;
# * with a small learning rate, annealed with a cosine schedule: the guide starts at 1% of the
#   original initial learning rate and decays to 1% of that. Large learning rates make the straight-through
#   approximation worse and can wreck the trained network;
# * keep the quantizer scales as calibrated.
#
# Two more rules make it work on convolutional networks. Freeze BatchNorm: put the BatchNorm layers in
# eval mode, so that their running statistics, computed over the full training set, are not replaced by
# the statistics of a few noisy batches; TensorRT folds BatchNorm into the convolution at build time
# anyway, so there is nothing to simulate in training. And if you fold BatchNorm before quantizing, as this
# page does to reproduce the per-tensor failure, there is nothing left to freeze: the folded weights are
# trained directly.
#
# Here the "original schedule" is not ours to repeat (no ImageNet training set), so the loss is
# distillation, which needs no labels. The FP32 model is the teacher, the quantized model the student,
# and the loss is the Kullback-Leibler divergence of their softmax outputs
# :math:`p_T` and :math:`p_S`, teacher first:
# :math:`\mathrm{KL}(T \,\|\, S) = \sum_i p_T(i) \log\big(p_T(i) / p_S(i)\big)`, averaged over the batch.
# In PyTorch that is ``F.kl_div(F.log_softmax(student), F.softmax(teacher))``: ``kl_div(input, target)``
# takes the student's log-probabilities as ``input`` and the teacher's probabilities as ``target``, and
# computes :math:`\sum \mathrm{target} \cdot (\log \mathrm{target} - \mathrm{input})`, the same sum.
# ``qat.finetune`` implements the recipe:
#
# .. literalinclude:: /demos/resnet50/qat.py
#    :pyobject: distillation_loss
#
# .. literalinclude:: /demos/resnet50/qat.py
#    :pyobject: finetune
#
# On the CPU the page can afford four epochs over the 178 calibration images, with Adam at 1e-5, the
# small learning rate the guide asks for.

hist = record["finetune"]
print(f"fine-tuning: {hist['steps']} steps ({hist['epochs']} epochs, batch {hist['batch']}), {hist['optimizer']} "
      f"lr {hist['lr']:g}, {hist['lr_schedule']}, loss {hist['loss']}, BatchNorm layers frozen: "
      f"{hist['batchnorm_frozen']} (none left after folding)")
losses, lrs = arrays["losses"], arrays["lrs"]
epoch_losses = hist["epoch_losses"]
steps_per_epoch = len(losses) // len(epoch_losses)
print("loss, mean over each epoch: " + " -> ".join(f"{v:.4f}" for v in epoch_losses))
print(f"learning rate: {lrs[0]:.1e} at the first step, {lrs[-1]:.1e} at the last "
      f"(the cosine ends at {settings['lr'] * qat.FINAL_LR_FRACTION:.1e} after the last step)")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 2.8))
ax1.plot(losses, marker=".", alpha=0.5, label="one batch")
ax1.plot([(i + 0.5) * steps_per_epoch for i in range(len(epoch_losses))], epoch_losses, "o-", color="tab:red",
         label="epoch mean")
ax1.legend(fontsize=7)
ax1.set_xlabel("step")
ax1.set_ylabel("KL(FP32 || QAT)")
ax2.plot(lrs, color="tab:orange")
ax2.set_xlabel("step")
ax2.set_ylabel("learning rate")
fig.suptitle("QAT fine-tuning: distillation loss per step and per epoch, cosine learning rate", fontsize=9)
fig.tight_layout()

# %%
# Did QAT recover it?
# -------------------
# The same 200 evaluation images, FP32 and PTQ from above, QAT after fine-tuning:

for name in ("fp32", "ptq", "qat"):
    print(f"{name.upper():<4} top-1 {m[name]['top1']:.2%}  top-5 {m[name]['top5']:.2%}  "
          f"agreement with FP32 {m[name]['agreement_top1_with_fp32']:.2%}  "
          f"rel. L2 of logits {m[name]['rel_l2_vs_fp32']:.3f}")

# %%
# Read the loss by its epoch means: single batches differ in how hard their images are, so the per-batch
# curve jumps, while the mean over each epoch shows whether the quantized network moves towards FP32.
# QAT wins back part of what PTQ lost, not all of it: the per-tensor constraint on the depthwise weights
# still costs accuracy that per-channel scales would not. Forty-eight steps on 178 images are far from the
# recipe's 10 % of the original schedule, which for an ImageNet model means many thousands of steps over
# the training set; a CPU site build cannot stand in for that, and 200 evaluation images resolve a
# difference of about one point at best. The learning rate matters as much as the length: the
# straight-through estimator only approximates the gradient of the rounding, and the guide warns that a
# large learning rate lets that approximation mislead the optimizer. This page and its recorded study train
# at 1e-5 only; if you try another rate, watch the epoch means, which must fall.
# Where QAT is not an option, the cheapest fix for this failure is to avoid it: per-channel weight scales,
# as in the first section.
#
# Export: Q/DQ ONNX
# -----------------
# ``qat.export_qdq`` exports the fake-quantized model with the TorchScript exporter
# (``torch.onnx.export(..., dynamo=False)``): each quantizer becomes a ``QuantizeLinear`` /
# ``DequantizeLinear`` pair, the explicit quantization that TensorRT 11 and TensorRT-RTX build from. (The
# dynamo exporter fails on ModelOpt's fake-quant modules with this PyTorch.) The exported model runs in ONNX
# Runtime as float emulation, and it should compute the same network as the PyTorch fake-quant model it
# came from: the same predictions, and logits as close as two correct implementations of one quantized
# network can be. That is not bit for bit. Wherever an intermediate value lies within float rounding of a
# step of the INT8 grid, the order in which a library sums the products decides which code it gets, and
# that one-step difference travels on through every later layer. To see the size of that floor, the
# check also runs the same PyTorch model in float64: PyTorch against itself, with nothing exported.

import onnx  # noqa: E402

qdq = onnx.load(str(qat_onnx))
ops = {op: sum(n.op_type == op for n in qdq.graph.node) for op in ("QuantizeLinear", "DequantizeLinear", "Conv")}
print(f"{qat_onnx.name}: {ops}")
check = record["export_check"]
floor = check["torch_float64_vs_float32"]
print(f"on {check['images']} evaluation images:")
print(f"  ONNX Runtime (exported Q/DQ) vs PyTorch fake quantization: rel. L2 "
      f"{check['rel_l2_vs_torch_fakequant']:.1e}, top-1 agreement {check['agreement']:.1%}")
print(f"  PyTorch float64 vs float32, same fake-quant model:         rel. L2 {floor['rel_l2']:.1e}, "
      f"top-1 agreement {floor['agreement']:.1%}")

# %%
# The exported model is about as far from PyTorch as PyTorch in float64 is from PyTorch in float32: the
# gap is the rounding-boundary floor, not an export error. An error in the export (a wrong scale, a missing quantizer,
# a transposed axis) shows up far above that floor, with logits off by tens of percent and predictions that
# disagree on most images. A few disagreeing predictions are images whose two best classes are within that
# floor of each other; count them on enough images before calling a difference real. TensorRT adds its own
# summation order and fusions on top, so its engine sits at the same kind of distance.

# %%
# Q/DQ placement for residual adds
# --------------------------------
# TensorRT fuses a convolution with an element-wise add that follows it (and the ReLU after that): the
# add of a residual block runs inside the convolution's kernel. TensorRT's rule for explicit quantization
# is to put Q/DQ on the *other* input of the add, the residual (identity) branch. When that input is
# INT8, the fused convolution + add can produce INT8 output and the next layer's ``QuantizeLinear`` fuses
# into it too; when it is float, the fused kernel has to write float and the next layer quantizes again.
# The INT8 page (:doc:`../int8/plot_int8_ptq`) explains the whole mechanism in its section "Where the Q/DQ
# nodes go, and what TensorRT does with them": how TensorRT moves DequantizeLinear forward and
# QuantizeLinear backward through ReLU, MaxPool and Concat, which chains it fuses, and NVIDIA's
# recommended placements, counted and drawn on the demo's own graph. This section applies the residual
# rule to QAT.
#
# ModelOpt's two paths differ here. Its ONNX PTQ (``modelopt.onnx.quantization``, used on the INT8 page)
# knows the rule: it finds each residual add and quantizes the residual input
# (``build_non_residual_input_map`` in ``modelopt/onnx/quantization/graph_utils.py``). Its PyTorch path
# quantizes the inputs of modules it knows (convolutions, linear layers, pooling), and in torchvision's
# ResNet50 the add is ``out += identity``, not a module, so the exported adds get no Q/DQ at all.
# ``qat.add_residual_quantizers`` adds a ``TensorQuantizer`` on each bottleneck's identity branch:
#
# .. literalinclude:: /demos/resnet50/qat.py
#    :pyobject: add_residual_quantizers
#
# First, what the PyTorch path gives by default, on the EfficientNet-Lite0 QAT model exported above
# (ModelOpt's default placement plus per-tensor depthwise weights). For every add of two computed tensors
# in the ONNX file: which op feeds each input, and whether through Q/DQ.

eff_adds = qat.add_inputs(qdq)
print(f"EfficientNet-Lite0 QAT export: {len(eff_adds)} residual adds, "
      f"{sum(any(i['quantized'] for i in a['inputs']) for a in eff_adds)} with a Q/DQ input; first add: "
      + ", ".join(f"{i['from']}{' via Q/DQ' if i['quantized'] else ' (float)'}" for i in eff_adds[0]["inputs"]))

# %%
# Now ResNet50 with the residual quantizers. Its weights are not available offline, so this uses random
# weights: the graph structure is what matters here, and no accuracy is computed from them.

placement = qat.residual_placement(gallery_cache.CACHE_ROOT / "qat")
adds = placement["adds"]
print(f"ResNet50 ({placement['weights']}) with residual quantizers: {len(adds)} residual adds, "
      f"{sum(any(i['quantized'] for i in a['inputs']) for a in adds)} with a Q/DQ input; "
      f"{placement['ops']['QuantizeLinear']} QuantizeLinear nodes")
for a in adds[:4]:
    print(f"  {a['name']}: " + ", ".join(f"{i['from']}{' via Q/DQ' if i['quantized'] else ' (float)'}"
                                         for i in a["inputs"]))

# %%
# Each add now has one float input straight from the last BatchNorm of the block (TensorRT folds it into
# the convolution, which the add fuses into) and one input through Q/DQ: the pattern TensorRT's placement
# guide asks for. The same function works for any network whose residual branches you can reach; for
# EfficientNet-style blocks, where the add is also not a module, the alternative is to quantize the
# exported ONNX model with ModelOpt's ONNX PTQ, which finds the residual adds by itself.

# %%
# Build the engine
# ----------------
# A Q/DQ model needs no precision flag: TensorRT 11 networks are strongly typed and take INT8 from the
# Q/DQ nodes; TensorRT 10 builds the same file strongly typed (``STRONGLY_TYPED`` creation flag). On
# TensorRT 10 the older path (``BuilderFlag.INT8`` with a weakly typed network) also accepts Q/DQ models,
# but the flag is gone in TensorRT 11. TensorRT-RTX builds the plan here, on the CPU.

from demos.trt import builder, loader, rtx_build  # noqa: E402

engines = gallery_cache.CACHE_ROOT / "qat" / "engines"
skipped = []
info = rtx_build.build_plan(qat_onnx, engines / "int8_qat.rtx.plan", 1, 8, 32)
print(f"TensorRT-RTX {info['tensorrt_version']}: plan {info['plan_bytes'] / 1e6:.1f} MB from {qat_onnx.name}, "
      f"{info['layers']} network layers, output precisions {info['network']['precision_counts']}, "
      f"{info['network']['dq_fed_layers']} DQ-fed layers counted apart")
fp32_kinds = collections.Counter(name.rsplit("(", 1)[-1].rstrip(")") for name in info["network"]["fp32_layers"])
print("FP32 layers by kind: " + ", ".join(f"{kind} {n}" for kind, n in fp32_kinds.most_common()))
fp32_plan = files.read_json(RESULTS / "cpu_efficientnet_lite0" / "build_rtx.json", "recorded build")["engines"][0]
print(f"(the recorded FP32 plan of the same network: {fp32_plan['plan_bytes'] / 1e6:.1f} MB)")

if loader.available():
    trt = loader.tensorrt()
    flavor = "trt11" if loader.major(trt) >= 11 else "trt10"
    plan, tinfo = builder.build(trt, qat_onnx, builder.BuildOptions(flavor, 1, 8, 32))
    files.write_bytes(engines / "int8_qat.trt.plan", plan)
    print(f"TensorRT {tinfo['tensorrt_version']}, strongly typed: {tinfo['plan_bytes'] / 1e6:.1f} MB plan, "
          f"network precisions {tinfo['network']['precision_counts']}")
else:
    skipped.append(f"TensorRT 11/10 strongly typed build of {qat_onnx.name}: {loader.missing_reason()}")
    print(f"skipped: {skipped[-1]}")

# %%
# These counts are the output types of the parsed network, before TensorRT fuses anything; no layer in them
# says INT8 although the plan is an INT8 plan. The layers that read a DequantizeLinear (the convolutions, the
# pooling and the classifier's matrix product) are counted apart: TensorRT fuses each with its DQ into an INT8
# kernel. Most FP32 layers are the ReLU6 clips and residual adds that follow those layers, which TensorRT can
# fuse into the same kernels; the INT64 layers compute the shape of the flatten before the classifier from
# the batch size. The precision each layer runs in shows in the built engine's layer report, on a GPU.
#
# PTQ vs QAT, recorded
# --------------------
# The numbers above come from 200 images and a four-epoch run that fits the site build. The same study
# on all evaluation images, with the same schedule, was recorded on a CPU with
# ``python -m demos.resnet50.qat``; its file holds the command, the data hashes and the library versions.

recorded = sorted(RESULTS.glob("qat_*.json"))
for path in recorded:
    rec = files.read_json(path, "recorded QAT study")
    prov = rec["provenance"]
    ft = rec["finetune"]
    print(f"{path.name}: {rec['model']} ({rec['weights']}), {rec['config']}")
    print(f"  trained on {rec['train_images']} calibration-pool images ({ft['epochs']} epochs, {ft['optimizer']} "
          f"lr {ft['lr']:g}, {ft['lr_schedule']}, loss {ft['loss']}), calibrated on {rec['calibration_images']}, "
          f"evaluated on {rec['eval_images']} evaluation-pool images")
    print(f"  {'':<5} {'top-1':>8} {'top-5':>8} {'agreement':>10}")
    for name in ("fp32", "ptq", "qat"):
        r = rec["metrics"][name]
        print(f"  {name.upper():<5} {r['top1']:>8.2%} {r['top5']:>8.2%} {r['agreement_top1_with_fp32']:>10.2%}")
    print(f"  {prov['host']['cpu']} ({prov['host']['cpu_count']} cores), {prov['date'][:10]}, "
          f"torch {prov['versions']['torch']}, ModelOpt {prov['versions']['nvidia-modelopt']}; "
          f"command: {rec['command']}")
if not recorded:
    print(f"no recorded study in {RESULTS}")

# %%
# The recorded run uses the page's schedule on all evaluation images, so its numbers carry more weight
# than the page's 200: QAT wins back a real part of what PTQ lost, though not all of it, as above. What
# neither run can show is the full recipe on the full training set, which is where QAT normally closes the
# gap.
#
# The steps this run skipped, in one list:

print("\n".join(f"skipped: {s}" for s in skipped) or "nothing skipped: TensorRT was present")

# %%
# Copy this
# ---------
# QAT with ModelOpt in your own training code, then a strongly typed build (TensorRT 10 and 11). The
# training function runs here on a small slice of the calibration images; your data loader and schedule
# replace them. The block is complete: with the tutorial's package installed it runs as it is.

import copy
import importlib.util
import tempfile
from pathlib import Path

import modelopt.torch.quantization as mtq
import onnx
import torch
import torch.nn.functional as F

from demos import gallery_cache, models


def quantization_aware_training(model, calib_batches, train_batches, epochs=1, lr=1e-5):
    """PTQ with ModelOpt, then fine-tuning: BatchNorm frozen, cosine learning rate."""
    teacher = copy.deepcopy(model).eval()

    def forward_loop(m):
        with torch.no_grad():
            for x, _ in calib_batches:
                m(x)

    # calibrated fake quantizers
    model = mtq.quantize(model, mtq.INT8_DEFAULT_CFG, forward_loop)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    # Cosine from lr down to 1 % of it, as NVIDIA's QAT guide recommends.
    steps = epochs * len(train_batches)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, T_max=steps, eta_min=lr / 100)
    for _ in range(epochs):
        model.train()
        for m in model.modules():  # freeze BatchNorm statistics
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()
        for x, _ in train_batches:
            with torch.no_grad():
                target = F.softmax(teacher(x), dim=1)
            # KL(teacher || student): kl_div takes the student's
            # log-probabilities and the teacher's probabilities.
            log_probs = F.log_softmax(model(x), dim=1)
            loss = F.kl_div(log_probs, target, reduction="batchmean")
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return model.eval()


def export_qdq_onnx(model, example, path):
    """Fake quantizers -> QuantizeLinear/DequantizeLinear (TorchScript exporter)."""
    batch = {0: "batch"}
    with torch.no_grad():
        torch.onnx.export(model, (example,), path, dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": batch, "logits": batch})


def build_int8_engine(onnx_path, plan_path, min_batch=1, opt_batch=8, max_batch=32):
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    # Required on TensorRT 10; TensorRT 11 networks are always strongly typed.
    flag = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flag)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(onnx_path):
        errors = (str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError("; ".join(errors))
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 1 << 30)
    profile = None  # only an input with a dynamic batch axis needs one
    for i in range(network.num_inputs):
        inp = network.get_input(i)
        if inp.shape[0] >= 0:
            continue
        chw = tuple(inp.shape)[1:]
        if profile is None:
            profile = builder.create_optimization_profile()
        shapes = [(b, *chw) for b in (min_batch, opt_batch, max_batch)]  # min, opt, max
        profile.set_shape(inp.name, *shapes)
    if profile is not None:
        config.add_optimization_profile(profile)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise RuntimeError(f"TensorRT could not build {onnx_path}")
    Path(plan_path).write_bytes(plan)


images = gallery_cache.Artifacts("efficientnet_lite0").images("calib", count=16)
xs, ys = torch.from_numpy(images.array), torch.from_numpy(images.labels)
batches = [(xs[i:i + 8], ys[i:i + 8]) for i in range(0, 16, 8)]
# unfolded: BatchNorm layers to freeze
fresh, _ = models.build("efficientnet_lite0", "pretrained")
small = quantization_aware_training(fresh, batches, batches, epochs=1)
with tempfile.TemporaryDirectory() as tmp:
    onnx_path = str(Path(tmp) / "model_int8_qat.onnx")
    export_qdq_onnx(small, xs[:1], onnx_path)
    n_q = sum(n.op_type == "QuantizeLinear" for n in onnx.load(onnx_path).graph.node)
    print(f"quantization_aware_training + export_qdq_onnx: {n_q} QuantizeLinear nodes")
    if importlib.util.find_spec("tensorrt") is not None:
        build_int8_engine(onnx_path, str(Path(tmp) / "model_int8_qat.plan"))
        print("build_int8_engine: plan written")
    else:
        print("build_int8_engine skipped: TensorRT is not installed "
              "(`import tensorrt` fails)")

# %%
# Common errors and fixes
# -----------------------
# * ``ModuleNotFoundError: No module named 'pytorch_quantization'``, or code with ``QuantDescriptor``,
#   ``quant_modules.initialize()`` and ``quant_nn.QuantConv2d``. That is the retired
#   ``pytorch-quantization`` toolkit. With ModelOpt, ``mtq.quantize(model, mtq.INT8_DEFAULT_CFG,
#   forward_loop)`` replaces the layers and calibrates in one call; per-layer settings go into the
#   configuration's ``quant_cfg`` entries instead of descriptors.
# * **Accuracy drops during QAT instead of recovering.** BatchNorm is in training mode: its running
#   statistics are being overwritten by small fine-tuning batches. Put the BatchNorm layers in eval mode
#   after every ``model.train()``. A learning rate near the original training rate does the same damage:
#   start at about 1 % of it, as NVIDIA's guide advises (this page uses Adam at 1e-5), anneal to 1 % of the
#   starting rate, and lower it if the epoch means of the loss rise.
# * **The export fails inside ModelOpt's quantizers** (``torch.export`` / dynamo errors). Export with
#   ``torch.onnx.export(..., dynamo=False)``, as above.
# * **The exported model has no QuantizeLinear nodes.** It was exported before ``mtq.quantize``, or the
#   quantizers were disabled (``mtq.disable_quantizer``) or never calibrated; print the model and look for
#   ``TensorQuantizer`` entries with an ``amax``.
# * **The INT8 engine is barely faster than FP16.** Look at the residual adds: without Q/DQ on the
#   identity input (ModelOpt's PyTorch path leaves them out), the fused convolution + add writes float and
#   the next layer quantizes again.
# * ``AttributeError: ... BuilderFlag has no attribute 'INT8'`` or ``IInt8EntropyCalibrator2`` missing on
#   TensorRT 11. Weak typing and calibrators were removed; a Q/DQ model built strongly typed, as in *Copy
#   this*, works on TensorRT 10 and 11.
