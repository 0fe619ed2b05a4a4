"""
FP16 engines: AutoCast, TensorRT 11 and TensorRT 10
===================================================

FP16 is the first step below FP32 for almost every deployment: it halves the size of the weights and of
every activation, runs on the tensor cores of all recent NVIDIA GPUs, and needs no calibration.
This page follows one real model, EfficientNet-Lite0 with its ImageNet weights, from an FP32 ONNX file to
FP16 engines.

It measures what FP16 changes in the numbers, shows how NVIDIA ModelOpt's AutoCast decides which layers
stay in FP32, builds the engines the current way (TensorRT 11: a strongly typed FP16 model) and the
TensorRT 10 way (``BuilderFlag.FP16``), checks the precision of every layer, and ends with the overflows
that make FP16 fail and how to avoid them.

The page is built on a CPU. ONNX Runtime computes the numbers, TensorRT-RTX builds real plans, and the
steps that need the TensorRT datacenter package or a GPU run only where those are present; otherwise the
output says exactly what was skipped. GPU speed comes from a committed measurement, with its provenance.
All code comes from ``demos/resnet50/fp16.py`` and ``demos/trt``.
"""

# %%
# The model and the data
# ----------------------
# The gallery pages share one exported FP32 ONNX file and one set of preprocessed images
# (``demos.gallery_cache``). AutoCast looks at a few calibration images; the errors are measured on
# evaluation images it never saw.

import matplotlib.pyplot as plt
import numpy as np

from demos import gallery_cache
from demos.resnet50 import fp16

art = gallery_cache.Artifacts("efficientnet_lite0")
fp32_onnx = art.fp32_onnx()
calib = art.images("calib", count=16)
evals = art.images("eval", count=128)
work = art.workdir.root / "fp16_page"  # this page's own files, beside the shared cache

print(f"model: {art.spec.name}, weights: {art.spec.weights_label}")
print(f"AutoCast and activation ranges: {calib.source}")
print(f"errors: {evals.source}")

# %%
# What FP16 can hold
# ------------------
# FP16 has 5 exponent bits and 10 fraction bits. That gives about three decimal digits everywhere in its
# range, but the range itself is short: the largest finite value is 65504, and below ``2**-14`` the
# numbers become *subnormal*, losing significant bits one by one until they round to zero.
# The step between neighbouring values grows with the magnitude: at 512 it is already 0.5.

f16 = np.finfo(np.float16)
print(f"largest finite   {float(f16.max):>12g}")
print(f"smallest normal  {float(f16.smallest_normal):>12.4g}  (2**-14)")
print(f"smallest subnorm {float(f16.smallest_subnormal):>12.4g}  (2**-24)")
for v in (1.0, 10.0, 512.0, 1024.0, 60000.0):
    print(f"spacing at {v:>7g}: {float(np.spacing(np.float16(v))):g}")
with np.errstate(over="ignore"):  # the overflow is the point here
    print(f"65504 + 16 rounds to {float(np.float16(65504) + np.float16(16))}, "
          f"65504 * 2 to {float(np.float16(65504) * np.float16(2))}")

# %%
# Where the activations of a real network live
# --------------------------------------------
# ``demos.resnet50.fp16.tensor_outputs`` runs the FP32 model with ONNX Runtime and returns every
# intermediate tensor; ``demos.resnet50.fp16.range_stats`` reduces each to its largest magnitude and
# to the share of its non-zero values that FP16 could only store as subnormals.

fp32_tensors = fp16.tensor_outputs(fp32_onnx, calib.array)
stats = fp16.range_stats(fp32_tensors)
absmax = np.array([s["absmax"] for s in stats])
subnormal = np.array([s["subnormal_share"] for s in stats])
flushed = np.array([s["flush_share"] for s in stats])

fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 5.6), sharex=True)
ax1.semilogy(absmax, ".-", label="largest |value| of the tensor")
ax1.axhline(float(f16.max), color="C3", linestyle="--", label="FP16 largest finite (65504)")
ax1.axhline(512, color="C2", linestyle=":", label="AutoCast data_max default (512)")
ax1.set_ylabel("largest |value|")
ax1.legend(fontsize=8, loc="center right")
ax2.semilogy(np.where(subnormal > 0, subnormal, np.nan), ".-", color="C1",
             label="share below 2**-14 (subnormal in FP16)")
ax2.semilogy(np.where(flushed > 0, flushed, np.nan), "o", color="C4", label="share that rounds to zero in FP16")
ax2.set_xlabel("tensor, in graph order (conv, activation, add, pooling, classifier)")
ax2.set_ylabel("share of non-zero values\n(gaps: none)")
ax2.legend(fontsize=8, loc="upper left")
fig.suptitle(f"EfficientNet-Lite0 activations, FP32, {len(calib.array)} calibration images", fontsize=10)
fig.tight_layout()

top = int(np.argmax(absmax))
print(f"{len(stats)} tensors; largest magnitude {absmax[top]:.1f} in {stats[top]['tensor']}, "
      f"{float(f16.max) / absmax[top]:.0f}x below the FP16 limit")
print(f"tensors above 512: {int(np.sum(absmax > 512))}; largest subnormal share {subnormal.max():.2e}, "
      f"largest share rounding to zero {flushed.max():.2e}")
weights = fp16.weight_stats(fp32_onnx)
print(f"weights: {weights['values']:,} values, largest magnitude {weights['absmax']:.1f}, "
      f"{weights['above_fp16_max']} above 65504, {weights['subnormal']:,} FP16 subnormals, "
      f"{weights['below_smallest_subnormal']:,} below the smallest subnormal")

# %%
# This network is comfortable in FP16. Its activations are bounded by ReLU6 after almost every
# convolution, and even the convolution outputs before the clip stay far below 65504. The values FP16
# would store as subnormals or lose are a tiny share of each tensor, and the same holds for the weights
# (the convolutions with their BatchNorm folded in). Networks without such bounds
# (transformers, unnormalized regression heads, sums over large tensors) are where FP16 can break; the
# last sections show how.
#
# Which layers should stay in FP32, and how AutoCast decides
# -----------------------------------------------------------
# TensorRT 11 builds every network *strongly typed*: each tensor has the type the ONNX file gives it, and
# the builder no longer chooses FP16 on its own. The FP16 decision therefore moves into the model, and
# ``modelopt.onnx.autocast.convert_to_mixed_precision`` makes it. In nvidia-modelopt 0.47.0 it keeps a
# node in FP32 when any of these rules matches, checked in this order (a ``custom_rule`` you pass comes last):
#
# 1. its name matches a regular expression of ``nodes_to_exclude``;
# 2. its type is in ``op_types_to_exclude``;
# 3. one of its FP32 initializers (weights, biases) holds a magnitude above ``init_max`` (default 65504,
#    the FP16 limit);
# 4. one of its inputs or outputs exceeds ``data_max`` in magnitude (default 512, where the FP16 spacing
#    reaches 0.5) on the reference data: one FP32 run of ONNX Runtime over the ``calibration_data`` file,
#    or, without that file, over *random inputs* in [-1, 1];
# 5. its reduction is deeper than ``max_depth_of_reduction`` (a Conv's input channels times kernel size,
#    a MatMul's or Gemm's inner dimension, a Reduce op's reduced axis); this rule is off by default.
#
# ``nodes_to_include`` and ``op_types_to_include`` override these rules and force nodes to FP16. Operators
# that ONNX does not define for FP16 at the model's opset (and ``Upsample``, ``NonMaxSuppression``,
# ``Celu``) always stay FP32, as does the scales input of ``Resize``. AutoCast then inserts Cast nodes at
# every boundary between the two precisions; ``keep_io_types=True`` keeps the model's inputs and outputs
# in FP32, so the calling code does not change.
#
# Give AutoCast real inputs. Its range rule is only as good as the reference data, and random inputs in
# [-1, 1] do not produce the activations of real images. ``demos.resnet50.fp16.convert`` writes the
# calibration images to the ``.npz`` file AutoCast reads, and collects AutoCast's own reason for every node
# it keeps in FP32.

rec = fp16.convert_cached(fp32_onnx, work / "fp16.onnx", calib.array, calib.data_hash)
print(f"AutoCast, data_max {rec['data_max']:g}, {rec['calibration_images']} calibration images: "
      f"{sum(rec['fp16_nodes'].values())} nodes in FP16 {rec['fp16_nodes']}, "
      f"{len(rec['fp32_nodes'])} kept in FP32, {rec['casts']} casts")
print(f"size: {fp32_onnx.stat().st_size / 1e6:.1f} MB (FP32) -> {rec['bytes'] / 1e6:.1f} MB (FP16)")
for node, reason in rec["fp32_reasons"].items():
    print(f"  kept FP32: {node}: {reason}")
for warning in rec["autocast_warnings"]:
    print(f"  AutoCast warning: {warning}")

# %%
# AutoCast also converts the weights. A weight above 65504 would be clamped, which is why the
# ``init_max`` rule keeps its node in FP32; a non-zero weight below the smallest subnormal is not flushed to
# zero but replaced by the smallest subnormal, ``6.0e-08``, and AutoCast warns once when that happens. For
# weights that small the change does not matter, but the warning tells you the model has them.
#
# With the default threshold AutoCast keeps nothing in FP32 here, as the ranges above predicted: only the
# two Casts for the FP32 input and output are added. To watch the rule at work, convert once more with a
# much stricter threshold, 64, which a few real tensors exceed.

strict = fp16.convert_cached(fp32_onnx, work / "fp16_data_max_64.onnx", calib.array, calib.data_hash,
                             data_max=64.0)
print(f"AutoCast, data_max {strict['data_max']:g}: {len(strict['fp32_nodes'])} nodes kept in FP32, "
      f"{strict['casts']} casts")
for node, reason in strict["fp32_reasons"].items():
    print(f"  kept FP32: {node}: {reason}")

# %%
# A node stays FP32 when any of its inputs *or* outputs is out of range, so a large tensor keeps both its
# producer and its consumers in FP32, and every switch between the precisions costs a Cast. On a GPU each
# Cast is a pass over the tensor, and an FP32 island in the middle of an FP16 network can cost more than
# it saves: keep ``data_max`` at its default unless the accuracy says otherwise.
#
# What changes numerically
# ------------------------
# Now compare the FP16 model's logits with the FP32 logits, image by image, on evaluation images.
# ONNX Runtime's CPU provider has few FP16 kernels: it upcasts most FP16 operators and computes them in
# FP32, so these numbers mostly show the rounding of the weights and inputs to FP16, which every FP16
# engine has. A GPU engine also keeps its activations in FP16 and differs further in the last bits,
# because its kernels differ.

ref = art.ort_logits(fp32_onnx, evals)
half = art.ort_logits(work / "fp16.onnx", evals)
rel = np.linalg.norm(half - ref, axis=1) / np.linalg.norm(ref, axis=1)
agree = float(np.mean(half.argmax(1) == ref.argmax(1)))
print(f"{len(ref)} evaluation images, ONNX Runtime CPU:")
print(f"  relative L2 error of the logits: median {np.median(rel):.2e}, max {rel.max():.2e}")
print(f"  largest absolute logit difference {np.abs(half - ref).max():.3f} (logits span "
      f"{ref.min():.1f} .. {ref.max():.1f})")
print(f"  top-1 agreement with FP32 {agree:.2%}; top-1 accuracy FP32 {np.mean(ref.argmax(1) == evals.labels):.2%}, "
      f"FP16 {np.mean(half.argmax(1) == evals.labels):.2%}")

# %%
# How the error builds up through the network: the relative error of every intermediate tensor of the
# FP16 model against the FP32 model, on the calibration images.

half_tensors = fp16.tensor_outputs(work / "fp16.onnx", calib.array)
layer_err = fp16.relative_errors(fp32_tensors, half_tensors)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.hist(rel, bins=30)
ax1.set_xlabel("relative L2 error of the logits, per image")
ax1.set_ylabel("images")
ax1.set_title(f"FP16 vs FP32 logits, {len(rel)} evaluation images", fontsize=9)
ax2.semilogy([e for _, e in layer_err], ".-")
ax2.set_xlabel("tensor, in graph order")
ax2.set_ylabel("relative L2 error vs FP32")
ax2.set_title("error of each intermediate tensor", fontsize=9)
fig.tight_layout()

# %%
# The error appears in the first layers, grows over the first blocks and then levels off instead of
# compounding, small enough that the predicted class almost never changes.
# The full CPU pipeline of the demo (``python -m demos.resnet50 eval``) measured the same comparison on
# every evaluation image; its committed records:

from demos import files  # noqa: E402

for variant in ("fp32", "fp16"):
    r = files.read_json(fp16.RESULTS / "cpu_efficientnet_lite0" / f"eval_{variant}_ort.json", "recorded evaluation")
    p = r["provenance"]
    print(f"{variant.upper()}: top-1 {r['top1']:.2%}, top-5 {r['top5']:.2%}, agreement with FP32 "
          f"{r['agreement_top1_with_fp32']:.2%}, relative L2 {r['rel_l2_vs_fp32']:.2e} on {r['images']} images "
          f"[{r['model']}, {r['weights']}; ONNX Runtime {p['versions']['onnxruntime']} on {p['host']['cpu']}, "
          f"{p['date'][:10]}]")

# %%
# FP16 overflow: two real examples
# --------------------------------
# Overflow is the failure that matters: a value above 65504 becomes infinity, and one infinity turns a
# whole softmax or normalization into NaN or zeros. ONNX Runtime's CPU provider, which upcasts internally,
# can hide it, so these examples compute in PyTorch's ``float16`` tensors, which store every result in
# FP16 as a GPU kernel with an FP16 output does.
#
# **A softmax written by hand.** ``exp(x)`` overflows FP16 for any ``x`` above ``ln(65504)``, about 11.09.
# Logits of a confident classifier reach that.

import torch  # noqa: E402

logits16 = torch.from_numpy(ref).half()
e = torch.exp(logits16)
naive = e / e.sum(dim=1, keepdim=True)
shifted = torch.exp(logits16 - logits16.amax(dim=1, keepdim=True))  # largest term is exp(0) = 1
stable = shifted / shifted.sum(dim=1, keepdim=True)
truth = torch.softmax(torch.from_numpy(ref).double(), dim=1)
limit = float(np.log(float(f16.max)))
print(f"images with a logit above ln(65504) = {limit:.2f}: {int((ref.max(1) > limit).sum())} of {len(ref)} "
      f"(largest logit {ref.max():.2f})")
print(f"naive FP16 softmax: {int(torch.isnan(naive).any(dim=1).sum())} images with NaN probabilities")
print(f"softmax of x - max(x) in FP16: {int(torch.isnan(stable).any(dim=1).sum())} with NaN, largest "
      f"probability error {float((stable.double() - truth).abs().max()):.1e}")

# %%
# A library softmax (PyTorch's, for example) subtracts the maximum internally; the trap is the softmax,
# log-sum-exp or temperature scaling written out by hand in post-processing or in a custom
# attention, where AutoCast sees ``Exp`` as an ordinary elementwise node. Subtract the maximum, or keep
# that node in FP32 with ``nodes_to_exclude``.
#
# **A sum over a large tensor.** Normalizing the last feature map by its L2 norm (as retrieval heads do,
# or a one-group GroupNorm when it computes the variance) needs the sum of the squares of all its values:
# 1280 channels times 7x7 positions. Each square fits FP16 easily; their sum does not. The features here
# are the real output of the model's last convolution (``conv_head``), before its ReLU6.

import onnx  # noqa: E402

last_conv = [n for n in onnx.load(str(fp32_onnx)).graph.node if n.op_type == "Conv"][-1]
feats = fp32_tensors[last_conv.output[0]]
sumsq = (feats.astype(np.float64) ** 2).reshape(len(feats), -1).sum(axis=1)
x16 = torch.from_numpy(feats).half()
norm16 = torch.sqrt((x16 * x16).sum(dim=(1, 2, 3), keepdim=True))
scaled16 = torch.sqrt((x16 * x16).mean(dim=(1, 2, 3), keepdim=True)) * float(np.sqrt(feats[0].size))
ref_norm = np.sqrt(sumsq)
print(f"{feats[0].size} values per image; sum of squares {sumsq.min():.3g} .. {sumsq.max():.3g} in FP32")
print(f"FP16 sum of squares: {int(torch.isinf(norm16).sum())} of {len(feats)} images overflow to inf, "
      f"so x / norm is 0 everywhere")
print(f"FP16 mean of squares, times sqrt(N): largest relative error of the norm "
      f"{float(np.max(np.abs(scaled16.flatten().double().numpy() - ref_norm) / ref_norm)):.1e}")

# %%
# Scaling before summing (a mean instead of a sum) keeps the intermediate inside FP16's range, which is
# why normalization layers compute means. AutoCast finds the other fix on its own when it sees the
# overflow in its reference data: written as an ONNX graph and converted with the real features as
# calibration data, the sum of squares and the nodes that read it stay in FP32.

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

c, h, w = feats.shape[1:]
graph = helper.make_graph(
    [helper.make_node("ReduceSumSquare", ["x", "axes"], ["sumsq"], name="sum_of_squares", keepdims=1),
     helper.make_node("Sqrt", ["sumsq"], ["norm"], name="norm"),
     helper.make_node("Div", ["x", "norm"], ["y"], name="normalize")],
    "l2_normalize",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", c, h, w])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", c, h, w])],
    [numpy_helper.from_array(np.array([1, 2, 3], dtype=np.int64), "axes")])
l2_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=10)
l2_decision = fp16.autocast_on_graph(l2_model, {"x": feats})
print(f"AutoCast on the L2 normalization: FP16 nodes {l2_decision['fp16_nodes'] or 'none'}, "
      f"FP32 nodes {len(l2_decision['fp32_nodes'])}")
for node, reason in l2_decision["fp32_reasons"].items():
    print(f"  kept FP32: {node}: {reason}")

# %%
# Building the engine with TensorRT 11
# ------------------------------------
# With the types in the model, the build has no precision settings at all: parse the AutoCast model
# into a strongly typed network and build. TensorRT 11 creates every network strongly typed (the
# ``STRONGLY_TYPED`` creation flag is accepted and changes nothing); TensorRT 10.x needs the flag.
# ``demos.trt.builder.build`` does this, with an optimization profile for the dynamic batch axis and
# ``ProfilingVerbosity.DETAILED`` for the inspector below.

from demos.trt import builder, loader, rtx_build  # noqa: E402

engines = work / "engines"
skipped = []
built = {}
if loader.available():
    trt = loader.tensorrt()
    flavor = "trt11" if loader.major(trt) >= 11 else "trt10"
    plan, info = builder.build(trt, work / "fp16.onnx", builder.BuildOptions(flavor, 1, 8, 32))
    built["fp16.trt.plan"] = files.write_bytes(engines / "fp16.trt.plan", plan)
    print(f"TensorRT {info['tensorrt_version']}, strongly typed: {info['layers']} layers, "
          f"{info['plan_bytes'] / 1e6:.1f} MB plan, network precisions {info['network']['precision_counts']}")
else:
    skipped.append(f"TensorRT strongly typed build of fp16.onnx: {loader.missing_reason()}")
    print(f"skipped: {skipped[-1]}")

# %%
# The TensorRT 10 way
# -------------------
# TensorRT 10 also has *weak typing*: build the FP32 model with ``BuilderFlag.FP16`` and the builder may
# pick an FP16 kernel for any layer where it measures one faster, with no rule about ranges. The flag was
# deprecated in TensorRT 10.12 and removed in TensorRT 11, together with ``platform_has_fast_fp16``.
# TensorRT 10 also builds the AutoCast model strongly typed, as above, and that is the way to migrate:
# both versions then follow the same precision assignment, the one written in the model. The engines
# are not the same: each version chooses its own kernels and fusions, and a plan runs only with the
# TensorRT version and on the GPU it was built for.

if loader.available() and loader.major(loader.tensorrt()) == 10:
    trt = loader.tensorrt()
    opts = builder.BuildOptions("trt10", 1, 8, 32, strongly_typed=False, trt10_fp16=True)
    plan, info = builder.build(trt, fp32_onnx, opts)
    built["fp32_fp16flag.trt.plan"] = files.write_bytes(engines / "fp32_fp16flag.trt.plan", plan)
    print(f"TensorRT {info['tensorrt_version']}, BuilderFlag.FP16 on the FP32 model: "
          f"{info['plan_bytes'] / 1e6:.1f} MB plan")
else:
    why = loader.missing_reason() or "the installed TensorRT is 11 or later, which has no BuilderFlag.FP16"
    skipped.append(f"TensorRT 10 weak-typing build (BuilderFlag.FP16 on fp32.onnx): {why}")
    print(f"skipped: {skipped[-1]}")

# %%
# TensorRT-RTX: built here, on a CPU
# ----------------------------------
# TensorRT-RTX, the TensorRT for GeForce and RTX workstation GPUs, compiles in two phases: an
# ahead-of-time build that needs no GPU at all and produces a plan for a range of GPU architectures, and a
# just-in-time phase on the user's GPU that generates and selects the kernels at load time (a runtime
# cache keeps them across launches). It has no weak typing: precision comes from the model, exactly as in
# TensorRT 11, and INT8 or FP8 from Q/DQ nodes. By default a plan targets Ampere and later RTX GPUs;
# Turing needs its compute capability set explicitly in the builder config.
# ``demos.trt.rtx_build.build_plan`` builds in a child process (see ``demos.trt.rtx``).

rtx_plans = {}
for label, path in (("FP32", fp32_onnx), ("FP16, AutoCast", work / "fp16.onnx"),
                    ("FP16, data_max 64", work / "fp16_data_max_64.onnx")):
    rtx_plans[label] = rtx_build.build_plan(path, engines / f"{path.stem}.rtx.plan", 1, 8, 32)
    info = rtx_plans[label]
    print(f"TensorRT-RTX {info['tensorrt_version']}, {label:<18}: plan {info['plan_bytes'] / 1e6:5.1f} MB, "
          f"{info['layers']} network layers, output precisions {info['network']['precision_counts']}")

trt_rtx = rtx_build.import_bindings()
for owner, name in ((trt_rtx.BuilderFlag, "FP16"), (trt_rtx.BuilderFlag, "INT8"),
                    (trt_rtx.Builder, "platform_has_fast_fp16"),
                    (trt_rtx.NetworkDefinitionCreationFlag, "STRONGLY_TYPED"),
                    (trt_rtx.IBuilderConfig, "set_compute_capability")):
    print(f"tensorrt_rtx {owner.__name__}.{name}: {'present' if hasattr(owner, name) else 'absent'}")

# %%
# The FP16 plan is about half the size of the FP32 one, since the weights are stored in FP16. The
# strict AutoCast model shows its FP32 layers in the parsed network, exactly where AutoCast put them: in a
# strongly typed network the builder may fuse layers and choose kernels, but not change a tensor's type.
#
# Checking the precision of every layer
# -------------------------------------
# The parsed network tells what the model asks for; the engine inspector tells what the engine does,
# fused layer by fused layer, with the format and data type of each output. It needs an engine built with
# ``ProfilingVerbosity.DETAILED`` and a runtime that can load it, which means a GPU.

if "fp16.trt.plan" in built and loader.gpu_reason() is None:
    from demos.trt import inspector

    trt = loader.tensorrt()
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    engine = runtime.deserialize_cuda_engine(built["fp16.trt.plan"].read_bytes())
    context = engine.create_execution_context()
    context.set_input_shape(engine.get_tensor_name(0), (8, *calib.array.shape[1:]))
    report = inspector.report(trt, engine, context)
    print(f"engine layers by output precision: {report['precision_counts']}")
    for layer in report["layers"][:8]:
        print(f"  {layer['name']}: {layer['output']}")
else:
    why = loader.missing_reason() or loader.gpu_reason()
    skipped.append(f"engine inspector on fp16.trt.plan: {why}")
    print(f"skipped: {skipped[-1]}")
    print("the precision of the parsed networks is above; TensorRT-RTX plans load only on an RTX GPU")

# %%
# What FP16 buys on a GPU
# -----------------------
# This machine has no GPU. The ResNet50 demo measured PyTorch inference on an H200 at several precisions
# (``python -m demos.resnet50 bench --backend torch-cuda``, random weights: the speed does not depend on
# them) and committed the result; it is read here. PyTorch runs layer by layer, so these are framework
# numbers, not TensorRT engines.

bench = files.read_json(fp16.RESULTS / "bench_gpu_h200.json", "recorded GPU benchmark")
prov = bench["provenance"]
print(f"{prov['gpu']['name']}, driver {prov['gpu']['driver']}, CUDA {prov['gpu']['torch_cuda']}, "
      f"PyTorch {prov['versions']['torch']}, {prov['date'][:10]}; ResNet50, {bench['results'][0]['weights']}")
rows = [r for r in bench["results"] if r.get("images_per_s") and r.get("compile_mode") is None]
base = next(r["images_per_s"] for r in rows if r["variant"] == "fp32")
for r in rows:
    layout = "channels_last" if r["channels_last"] else "NCHW"
    print(f"  {r['variant']:<9} {r['dtype']:<5} {layout:<14} batch {r['batch']}: {r['images_per_s']:>8,.0f} img/s "
          f"({r['images_per_s'] / base:.1f}x FP32), p50 {r['latency_ms']['p50']:.1f} ms")

fig, ax = plt.subplots(figsize=(7, 2.8))
labels = [f"{r['dtype']}{' channels_last' if r['channels_last'] else ''}" for r in rows]
ax.barh(range(len(rows)), [r["images_per_s"] for r in rows], color=["C0" if r["dtype"] != "fp16" else "C1"
                                                                   for r in rows])
ax.set_yticks(range(len(rows)), labels, fontsize=8)
ax.invert_yaxis()
ax.set_xlabel("ResNet50 images per second (batch 256)")
ax.set_title(f"ResNet50 throughput per data type, PyTorch eager on {prov['gpu']['name']}, {prov['date'][:10]}",
             fontsize=9)
fig.tight_layout()

# %%
# FP16 is much faster than FP32 here, and faster still with the channels-last layout that tensor
# cores prefer. TF32 (FP32 storage, tensor-core math) sits in between. The
# *Why low precision is fast* page of this tutorial explains where these factors come from.
#
# The steps this run skipped, in one list:

print("\n".join(f"skipped: {s}" for s in skipped) or "nothing skipped: TensorRT and a GPU were present")

# %%
# Copy this
# ---------
# AutoCast with real calibration data, then a strongly typed build that works on TensorRT 10 and 11.
# The conversion runs anywhere; the build needs TensorRT. The block is complete: with the tutorial's
# package installed (see the download area below) it runs as it is, here on the page's model and
# calibration images; put your own FP32 ONNX file and preprocessed images in their place.

import importlib.util
import tempfile
from pathlib import Path

import numpy as np
import onnx
from modelopt.onnx.autocast import convert_to_mixed_precision

from demos import gallery_cache
from demos.resnet50 import fp16


def to_fp16(onnx_in: str, onnx_out: str, calibration: np.ndarray) -> None:
    """FP16 ONNX model with FP32 inputs and outputs; nodes above 512 stay FP32."""
    input_name = onnx.load(onnx_in, load_external_data=False).graph.input[0].name
    with tempfile.TemporaryDirectory() as tmp:
        npz = str(Path(tmp) / "calibration.npz")
        # real, preprocessed inputs
        np.savez(npz, **{input_name: calibration.astype(np.float32)})
        model = convert_to_mixed_precision(onnx_in, low_precision_type="fp16",
                                           keep_io_types=True, calibration_data=npz,
                                           data_max=512)
    onnx.save(model, onnx_out)


def build_fp16_engine(onnx_path: str, plan_path: str, min_batch: int = 1,
                      opt_batch: int = 8, max_batch: int = 32) -> None:
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
    # per-layer information for the engine inspector
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED
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


art = gallery_cache.Artifacts("efficientnet_lite0")  # the page's model and images
model_fp32 = str(art.fp32_onnx())
calibration = art.images("calib", count=16).array
# fp16.autocast_decisions() collects AutoCast's log instead of printing it
with tempfile.TemporaryDirectory() as tmp, fp16.autocast_decisions():
    out = str(Path(tmp) / "model_fp16.onnx")
    to_fp16(model_fp32, out, calibration)
    print(f"to_fp16: {fp16.precision_summary(onnx.load(out))['fp16_nodes']}")
    if importlib.util.find_spec("tensorrt") is not None:
        build_fp16_engine(out, str(Path(tmp) / "model_fp16.plan"))
        print("build_fp16_engine: plan written")
    else:
        print("build_fp16_engine skipped: TensorRT is not installed "
              "(`import tensorrt` fails)")

# %%
# Common errors and fixes
# -----------------------
# * ``AttributeError: 'tensorrt.Builder' object has no attribute 'fp16_mode'`` (or ``build_engine``,
#   ``max_workspace_size``). Code from TensorRT 7 and earlier: builder-level settings moved to the builder
#   config in TensorRT 8, ``build_engine`` was removed in TensorRT 10. Use
#   ``config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, ...)`` and
#   ``builder.build_serialized_network(network, config)``; for FP16, see the next item.
# * ``AttributeError: type object 'tensorrt.BuilderFlag' has no attribute 'FP16'`` or no
#   ``platform_has_fast_fp16``. TensorRT 11 removed weak typing. Convert the model with AutoCast and build
#   it strongly typed, as in *Copy this*.
# * **The FP16 engine is no faster than FP32.** In a strongly typed network the types come from the file:
#   a model that was never converted builds an FP32 engine. Check the network's precisions (above) or the
#   inspector's report; on TensorRT 10 without AutoCast, the builder may also have found FP32 kernels
#   faster for some layers.
# * **NaN or infinite outputs in FP16 only.** An overflow: an activation, an ``exp`` or a sum above 65504.
#   Run AutoCast with real ``calibration_data`` so its range rule sees the real values, subtract the
#   maximum before ``exp``, compute means rather than sums, or keep the node in FP32 with
#   ``nodes_to_exclude``.
# * **AutoCast keeps too many nodes in FP32.** Without ``calibration_data`` the ranges come from random
#   inputs in [-1, 1]; with real data, check the reasons it logs (collected above by
#   ``demos.resnet50.fp16.autocast_decisions``) before raising ``data_max``.
# * **The engine expects FP16 inputs.** ``convert_to_mixed_precision`` converts the inputs and outputs too
#   unless ``keep_io_types=True``.
