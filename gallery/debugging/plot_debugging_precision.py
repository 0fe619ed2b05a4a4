"""
Debugging precision: Polygraphy layer by layer, and trtexec
===========================================================

An FP16 or INT8 model that gives different answers from FP32 raises two questions: is the difference
acceptable, and if not, where does it come from?
NVIDIA's Polygraphy answers both.
It runs a model with several backends (TensorRT, ONNX Runtime), saves every output, and compares outputs
with tolerances and error statistics; with ``--onnx-outputs mark all`` every intermediate tensor becomes
an output, so the comparison runs layer by layer.

This page does that for real on the EfficientNet-Lite0 models of this tutorial: FP32, FP16 (the FP16
page's AutoCast model), INT8 Q/DQ calibrated on real images (the INT8 page's entropy model), and an INT8
model calibrated on blank grey images, which is broken.
TensorRT is not installed on the machine that builds this page, so every ``polygraphy`` command here runs
the models with ONNX Runtime (``--onnxrt``) on the CPU.
The last sections list the commands that do the same with TensorRT on a GPU (``polygraphy --trt``,
``trtexec``); they were not run here, but every option they use is checked by the tests, the Polygraphy
ones with Polygraphy's own argument parser, the trtexec ones against a list of options with the TensorRT
release that added or removed each (``demos/debugging/trtexec_flags.toml``).
All code lives in ``demos/debugging`` and ``demos/qdq_placement.py``.
"""

# %%
# The models and the inputs
# -------------------------
# The four models come from the shared gallery cache, as the FP16 and INT8 pages make them: AutoCast on
# 16 calibration images for FP16, and the Q/DQ placement of ModelOpt with the entropy calibrator's ranges
# for INT8.
# The broken model has the same placement, with ranges computed on 8 uniform mid-grey images: the INT8
# page shows that such a calibration set destroys the model, and here the task is to find where.
#
# Polygraphy reads inputs from a JSON file that its own ``polygraphy.json.save_json`` writes (arrays are
# stored as base64-encoded NumPy data, nothing is pickled).
# Two evaluation images, one batch, are enough to compare tensors: every intermediate tensor holds
# hundreds of thousands of values.

import shutil

import matplotlib.pyplot as plt
from polygraphy.json import save_json

from demos import files, gallery_cache, locations, onnx_tools, qdq_placement
from demos.debugging import layerwise, polygraphy_cli
from demos.resnet50 import calib_study, fp16, qdq

art = gallery_cache.Artifacts("efficientnet_lite0")
fp32_path = art.fp32_onnx()
work = art.workdir.root / "debug_page"
work.mkdir(parents=True, exist_ok=True)

calib16 = art.images("calib", count=16)
fp16_rec = fp16.convert_cached(fp32_path, art.workdir.root / "fp16_page" / "fp16.onnx", calib16.array,
                               calib16.data_hash)
calib = art.images("calib", count=50)
qz = calib_study.Quantizer(fp32_path, calib_study.placement(fp32_path, art.workdir.path("int8_placement.onnx"),
                                                            calib.array[:32]))
real = qz.collect(calib.array, cache=art.workdir.cache / f"int8_hist_{calib.data_hash[:16]}.npz",
                  data_key=calib.data_hash)
blank_images = calib_study.synthetic_images("blank", 8, art.spec.preprocess)
blank = qz.collect(blank_images, cache=art.workdir.cache / "int8_hist_blank-8.npz",
                   data_key="blank-8-" + files.sha256_json(art.spec.preprocess.to_dict()))
amax = {"int8": qz.amax(real, "entropy"), "int8_blank": qz.amax(blank, "entropy")}

shutil.copyfile(fp32_path, work / "fp32.onnx")
shutil.copyfile(art.workdir.root / "fp16_page" / "fp16.onnx", work / "fp16.onnx")
for name, ranges in amax.items():
    onnx_tools.save(qz.model(ranges)[0], work / f"{name}.onnx")

evals = art.images("eval", count=2)
input_name = onnx_tools.input_name(onnx_tools.load(fp32_path))
save_json([{input_name: evals.array}], work / "inputs.json")  # one iteration: a batch of 2 images
print(f"models in {locations.shown(work)}:")
for name in ("fp32", "fp16", "int8", "int8_blank"):
    print(f"  {name + '.onnx':<16} {(work / f'{name}.onnx').stat().st_size / 2**20:5.1f} MiB")
print(f"inputs.json: {evals.source}; input {input_name!r}, shape {list(evals.array.shape)}")
print(f"Polygraphy {polygraphy_cli.version()}")


def polygraphy(*argv, expect=None):
    """Run ``polygraphy ARGV`` in the models' folder and show the command and its verdict lines."""
    result = polygraphy_cli.run(list(argv), cwd=work)
    print("$ " + result.command)
    print(polygraphy_cli.summary(result.output))
    print(f"[exit status {result.code}]")
    if expect is not None and result.code != expect:
        raise RuntimeError(f"{result.command} exited with {result.code}:\n{result.output[-3000:]}")


# %%
# The FP32 reference, every tensor
# --------------------------------
# ``--onnx-outputs mark all`` adds every tensor of the graph to the model's outputs before ONNX Runtime
# runs it, and ``--save-outputs`` writes them all to one JSON file.
# This run is the reference the other models are compared with.

polygraphy("run", "fp32.onnx", "--onnxrt", "--onnx-outputs", "mark", "all", "--load-inputs", "inputs.json",
           "--save-outputs", "fp32_outputs.json", expect=0)

# %%
# Does the output match? Tolerances
# ---------------------------------
# ``--load-outputs`` compares a new run with saved outputs, here only the logits (the new runs do not
# mark the other tensors).
# With the default check, ``--check-error-stat elemwise``, an element fails when its error exceeds both
# the absolute tolerance ``--atol`` and the relative tolerance ``--rtol`` (relative to the reference
# value), and one failing element fails the output.
#
# The Q/DQ models run with ``--graph-optimization-level ORT_ENABLE_BASIC``, as the demo's ``eval`` stage
# runs them: with all optimizations, ONNX Runtime replaces some Q/DQ patterns with its own integer
# kernels, which is not what TensorRT runs.

polygraphy("run", "fp16.onnx", "--onnxrt", "--load-inputs", "inputs.json", "--load-outputs", "fp32_outputs.json",
           "--atol", "0.05", "--rtol", "0.05", expect=0)
polygraphy("run", "int8.onnx", "--onnxrt", "--graph-optimization-level", "ORT_ENABLE_BASIC", "--load-inputs",
           "inputs.json", "--load-outputs", "fp32_outputs.json", "--atol", "0.05", "--rtol", "0.05", expect=1)

# %%
# FP16 passes: on these two images no logit is off by more than 0.05 (and 5 %).
# The good INT8 model fails the same check, and would fail it with any tolerance small enough to be
# useful: INT8 moves every logit a little, and the elementwise check looks at the worst one.
# For INT8, check a statistic of the error instead, here the median with ``--check-error-stat median``,
# and a tolerance that separates the good model from the broken one.
# The tolerance of a real deployment comes from the accuracy you accept, measured on a data set (the
# INT8 page does that); a comparison on a few images checks that an engine computes what its model
# says, it does not measure accuracy.

polygraphy("run", "int8.onnx", "--onnxrt", "--graph-optimization-level", "ORT_ENABLE_BASIC", "--load-inputs",
           "inputs.json", "--load-outputs", "fp32_outputs.json", "--check-error-stat", "median",
           "--atol", "0.2", "--rtol", "0.2", expect=0)
polygraphy("run", "int8_blank.onnx", "--onnxrt", "--graph-optimization-level", "ORT_ENABLE_BASIC",
           "--load-inputs", "inputs.json", "--load-outputs", "fp32_outputs.json", "--check-error-stat", "median",
           "--atol", "0.2", "--rtol", "0.2", expect=1)

# %%
# Where does it go wrong? Every tensor
# ------------------------------------
# With ``--onnx-outputs mark all`` on the low-precision model too, Polygraphy compares every tensor
# the two runs share (the Q/DQ models have extra tensors, the outputs of their Q/DQ nodes, which FP32
# does not have and which are skipped).
# ``--compare snr`` compares each tensor by its signal-to-noise ratio in decibels,
# ``10 log10(sum out² / sum (out - ref)²)``, with ``out`` the model being checked and ``ref`` the FP32
# reference: while the error is small, a relative L2 error of 10 % is about 20 dB, of 1 % about 40 dB.
# Unlike a tolerance, it does not depend on the size of the tensor's values, so the SNR of the first
# convolution and of the logits can be read on one scale.
# ``--save-accuracy-results`` writes the metric of every tensor to a small JSON file, which the figure
# below reads.

snr = {}
for name, label in (("fp16", "FP16"), ("int8", "INT8"), ("int8_blank", "INT8, calibrated on grey images")):
    basic = [] if name == "fp16" else ["--graph-optimization-level", "ORT_ENABLE_BASIC"]
    polygraphy("run", f"{name}.onnx", "--onnxrt", "--onnx-outputs", "mark", "all", *basic, "--load-inputs",
               "inputs.json", "--load-outputs", "fp32_outputs.json", "--compare", "snr", "--snr-threshold", "20",
               "--save-accuracy-results", f"{name}_snr.json")
    snr[label] = layerwise.read_metric(work / f"{name}_snr.json", "snr")

# %%
# FP16 passes 20 dB on every tensor; both INT8 models fail somewhere.
# Which failure matters needs two more ideas.
#
# **The fused view.** TensorRT runs a convolution, its ReLU6 and the quantization of the result as one
# kernel, so the convolution's raw output never exists in the engine; ONNX Runtime runs them one by one
# and Polygraphy reports every tensor. The analysis below keeps the tensors that survive TensorRT's
# fusions: the outputs of activations, of projection convolutions, of residual adds, and of the head.
#
# **The first layer that breaks, not the first that fails.** Errors propagate: once one layer is wrong,
# every later tensor fails too. ``demos.debugging.layerwise.first_explosion`` looks, in graph order, for
# the first layer whose input still passes 20 dB while its own output fails it, at least 10 dB lower (the
# noise grows tenfold in that one layer).

graph = layerwise.Graph(fp32_path)
for label, values in snr.items():
    fused = graph.fused(values)
    fail = layerwise.first_failure(graph, values)
    boom = layerwise.first_explosion(graph, values)
    print(f"{label}: {len(values)} tensors compared, {len(fused)} in the fused view, "
          f"{sum(values[t] < 20 for t in fused)} below 20 dB; logits {values['logits']:.1f} dB")
    if fail:
        print(f"  first below 20 dB: {fail.layer} ({fail.tensor}), {fail.snr_in:.1f} dB in -> {fail.snr_out:.1f} dB out")
    print(f"  first explosion:   " + (f"{boom.layer} ({boom.tensor}), {boom.snr_in:.1f} dB in -> "
                                      f"{boom.snr_out:.1f} dB out" if boom else "none"))

broken = layerwise.first_explosion(graph, snr["INT8, calibrated on grey images"])
fig, ax = plt.subplots(figsize=(11, 4.4))
layerwise.plot(ax, graph, snr, mark=broken,
               colors={"FP16": "#2ca02c", "INT8": "#1f77b4", "INT8, calibrated on grey images": "#d62728"})
ax.set_title("EfficientNet-Lite0: SNR of every tensor against FP32 (ONNX Runtime, 2 images), "
             "and the first layer whose error explodes", fontsize=10)
fig.tight_layout()

# %%
# FP16 starts at about 60 dB and stays between about 40 and 50 dB: its rounding error accumulates slowly.
# The good INT8 model starts at 31 dB after the stem and then moves between about 11 and 25 dB; most of
# its tensors are below 20 dB, so for INT8 the 20 dB line is a reference, not a pass mark.
# Every quantized layer adds a little noise and no single layer adds much: its first tensor below 20 dB,
# the projection of block 1.1, is 4 dB below an input that was already at 20 dB, and nothing explodes.
#
# The model calibrated on grey images breaks at its second layer, the depthwise convolution of block 0:
# its input (the stem's ReLU6 output) still has about 31 dB, its output 18 dB, and from there every block
# makes it worse until the logits are mostly noise.
# The cause is in the Q/DQ scales: the range of the tensors that layer reads and writes, in both models.

int8_model, blank_model = (onnx_tools.load(work / f"{n}.onnx") for n in ("int8", "int8_blank"))
good_amax, bad_amax = qdq.read_amax(int8_model), qdq.read_amax(blank_model)
print(f"{'quantized tensor':<14} {'made by':<28} {'amax (real images)':>18} {'amax (grey images)':>19}")
for t in list(good_amax)[:6]:
    made_by = graph.tensors[t].layer if t in graph.tensors else "model input"
    print(f"{t:<14} {made_by:<28} {good_amax[t]:>18.3f} {bad_amax[t]:>19.3f}")

# %%
# Calibrated on real images, the ReLU6 outputs get the range the activation allows, 6.
# Calibrated on grey images, the stem's output range is 3.8: every value between 3.8 and 6 is clipped
# before the depthwise convolution reads it, and the ranges deeper in the network shrink further (0.7
# where real images need 6).
# The fix is the calibration data, not the layer: the INT8 page's model calibrated on real images is the
# repaired one.
# When the scales look right and one layer still explodes, keep that layer out of INT8 (the INT8 page's
# per-layer sensitivity does that) or move on to quantization-aware training.
#
# A failure that is not the model's: the stem's raw output
# --------------------------------------------------------
# The full list of tensors holds a surprise: in both INT8 models, the very first tensor, the stem
# convolution's raw output, has an SNR of about 9 dB, while the same convolution after its ReLU6 has 31 dB.
# Three of its 32 output channels are almost dead after BatchNorm folding: their weights are around
# 1e-6 or smaller, so their per-channel weight scales are tiny, and their output is nearly the bias alone.
# When ONNX Runtime optimizes a Q/DQ graph, it stores each Conv bias as ``int32`` at the scale
# ``s_x * s_w`` (input scale times weight scale), the way an integer convolution adds it; for those
# channels the bias needs more than 2**31 steps and saturates.
# ``demos.qdq_placement.int32_bias_overflow`` finds every such channel from the Q/DQ file alone:

overflow = qdq_placement.int32_bias_overflow(int8_model)
print(f"{len(overflow)} layers with a bias that overflows int32 at scale s_x * s_w, "
      f"{sum(len(o['channels']) for o in overflow)} channels in all:")
for o in overflow[:4]:
    print(f"  {o['layer']:<20} channels {o['channels']} of {o['of']} ({o['max_steps']:.1e} steps needed)")

# %%
# The Q/DQ file itself keeps every bias in FP32, so this loss belongs to ONNX Runtime's optimizer, not to
# the model (TensorRT builds its own kernels from the same file).
# Running without graph optimizations (``ORT_DISABLE_ALL``) executes the file as written; marking only
# the stem's two tensors and the logits keeps the run short.

polygraphy("run", "int8.onnx", "--onnxrt", "--graph-optimization-level", "ORT_DISABLE_ALL", "--onnx-outputs",
           "getitem", "hardtanh", "logits", "--load-inputs", "inputs.json", "--load-outputs", "fp32_outputs.json",
           "--compare", "snr", "--snr-threshold", "20", "--save-accuracy-results", "int8_noopt_snr.json")
noopt = layerwise.read_metric(work / "int8_noopt_snr.json", "snr")
for t in ("getitem", "hardtanh", "logits"):
    print(f"{t:<9} {graph.tensors[t].layer:<18} ORT_ENABLE_BASIC {snr['INT8'][t]:5.1f} dB   "
          f"ORT_DISABLE_ALL {noopt[t]:5.1f} dB")

# %%
# Without ONNX Runtime's bias rewrite, the stem's raw output is as accurate as INT8 allows, while after
# the ReLU6 and at the logits the SNR barely moves: the saturated channels were negative, and ReLU6 sets
# them to zero either way.
# This is the general lesson of layer-by-layer debugging: before blaming a layer's precision, check that
# both runs execute the same computation.
# The same holds between ONNX Runtime and TensorRT: TensorRT fuses layers, moves Q/DQ nodes and
# accumulates in INT32, so its INT8 results are close to ONNX Runtime's but not bitwise equal, and NVIDIA
# does not promise bitwise equality either.
#
# On a GPU with TensorRT: Polygraphy
# ----------------------------------
# The same comparisons with TensorRT need a GPU and the ``tensorrt`` package; none of the commands below
# ran here.
# ``--trt --onnxrt`` runs one model with both backends and compares them directly: TensorRT's INT8 kernels
# against ONNX Runtime's emulation of the same Q/DQ file.
# ``--graph-optimization-level ORT_DISABLE_ALL`` makes ONNX Runtime execute the file as written; with its
# default, all optimizations, it runs its own integer kernels and stores Conv biases as saturated int32, as
# seen above, and the comparison would measure ONNX Runtime's rewrite as much as TensorRT.
# ``--strongly-typed`` builds the network strongly typed, which TensorRT 11 always does and TensorRT 10
# needs for a Q/DQ or AutoCast model.
#
# .. code-block:: console
#
#    # TensorRT 10 and 11
#    $ polygraphy run int8.onnx --trt --strongly-typed --onnxrt --graph-optimization-level ORT_DISABLE_ALL --load-inputs inputs.json --check-error-stat median --atol 0.2 --rtol 0.2
#    $ polygraphy run int8.onnx --trt --strongly-typed --trt-outputs mark all --load-inputs inputs.json --load-outputs fp32_outputs.json --compare snr --snr-threshold 20 --save-accuracy-results int8_trt_snr.json
#    $ polygraphy inspect model int8.plan --show layers
#
# Marking every TensorRT tensor as an output (``--trt-outputs mark all``) prevents the fusions that would
# hide those tensors, so the engine that Polygraphy compares is not the engine you deploy; use it to find
# the layer, then confirm on the unmodified engine.
# ``inspect model`` on an engine (a ``.plan`` file saved by ``--save-engine`` or ``trtexec``) lists its
# layers after fusion, with the precision of each when the engine was built with detailed profiling
# verbosity.
#
# TensorRT 10 also keeps the legacy paths, where TensorRT chooses precisions itself: ``convert --int8
# --calibration-cache`` builds an implicitly quantized engine from a calibration cache, and ``debug
# precision`` searches for the layers that must run in higher precision by building engine after engine,
# checking each with the command after ``--check``.
# The cache must be one that TensorRT 10 wrote for this ``fp32.onnx``: the demo's ``ptq --trt10-legacy``
# keeps it as ``trt10_entropy.calib.cache`` in its workdir.
# The ``int8_<method>.calib.cache`` files of the ``ptq`` stage use the same text format but are not
# TensorRT caches: they list only the Q/DQ activations, and where no TensorRT is installed their header
# says version 0, so TensorRT ignores them and calibrates again, here on Polygraphy's default input,
# random data, unless ``--data-loader-script`` supplies real images.
#
# .. code-block:: console
#
#    # TensorRT 10
#    $ polygraphy convert fp32.onnx --int8 --calibration-cache trt10_entropy.calib.cache --trt-min-shapes input:[1,3,224,224] --trt-opt-shapes input:[8,3,224,224] --trt-max-shapes input:[32,3,224,224] -o int8_implicit.plan
#    $ polygraphy debug precision fp32.onnx --int8 --calibration-cache trt10_entropy.calib.cache --precision float16 --mode bisect --check polygraphy run polygraphy_debug.engine --trt --load-inputs inputs.json --load-outputs fp32_outputs.json --check-error-stat median --atol 0.2 --rtol 0.2
#
# On TensorRT 11 there is nothing to search: precision is what the model says, so the search moves into
# the model (the INT8 page's per-layer sensitivity, ModelOpt's ``nodes_to_exclude``).
#
# On a GPU with TensorRT: trtexec
# -------------------------------
# ``trtexec`` builds and benchmarks engines from the command line; it ships with TensorRT (``bin/``
# of the archive, or ``/usr/src/tensorrt/bin`` in NVIDIA's containers).
# The model has a dynamic batch axis, so every build gives a shape profile.
# None of these commands ran here; the comment at the top of each block says which TensorRT versions
# accept it.
#
# FP16 and INT8 the current way: the precision is in the model (AutoCast's FP16 model, the Q/DQ INT8 model)
# and the network is strongly typed. ``--stronglyTyped`` is required on TensorRT 10 and accepted as a
# no-op on TensorRT 11, so the same commands work on both. A timing cache keeps the kernel timings of
# one build for the next builds on the same GPU and TensorRT version, which makes rebuilds much faster
# and does not change the engine's numerics.
#
# .. code-block:: console
#
#    # TensorRT 10 and 11
#    $ trtexec --onnx=fp16.onnx --stronglyTyped --minShapes=input:1x3x224x224 --optShapes=input:32x3x224x224 --maxShapes=input:256x3x224x224 --timingCacheFile=timing.cache --saveEngine=fp16.plan
#    $ trtexec --onnx=int8.onnx --stronglyTyped --minShapes=input:1x3x224x224 --optShapes=input:32x3x224x224 --maxShapes=input:256x3x224x224 --timingCacheFile=timing.cache --saveEngine=int8.plan
#
# The TensorRT 10 way, with weak typing: the builder may pick FP16 kernels (``--fp16``) or INT8 kernels
# (``--int8``) for any layer of the FP32 model where it measures them faster.
# ``--int8`` needs the ranges of a calibration cache that TensorRT wrote (``--calib``, here the one of
# ``ptq --trt10-legacy``): trtexec cannot calibrate by itself, and without a cache it uses placeholder
# ranges that are good for measuring speed and nothing else.
# ``--best`` enables every precision at once; it shows the fastest engine TensorRT can build from the
# model, and with placeholder INT8 ranges its accuracy means nothing.
# TensorRT 11 removed all of these options.
#
# .. code-block:: console
#
#    # TensorRT 10
#    $ trtexec --onnx=fp32.onnx --fp16 --minShapes=input:1x3x224x224 --optShapes=input:32x3x224x224 --maxShapes=input:256x3x224x224 --saveEngine=fp16_weak.plan
#    $ trtexec --onnx=fp32.onnx --int8 --calib=trt10_entropy.calib.cache --minShapes=input:1x3x224x224 --optShapes=input:32x3x224x224 --maxShapes=input:256x3x224x224 --saveEngine=int8_implicit.plan
#    $ trtexec --onnx=fp32.onnx --best --minShapes=input:1x3x224x224 --optShapes=input:32x3x224x224 --maxShapes=input:256x3x224x224 --saveEngine=best.plan
#
# Which precision did each layer get? ``--profilingVerbosity=detailed`` keeps the per-layer information
# in the engine, ``--dumpLayerInfo`` prints it and ``--exportLayerInfo`` writes it as JSON: every fused
# layer with its inputs' and outputs' types and formats, which is where a layer that was meant to run in
# INT8 but did not shows up. ``--skipInference`` stops after the build.
#
# .. code-block:: console
#
#    # TensorRT 10 and 11
#    $ trtexec --onnx=int8.onnx --stronglyTyped --minShapes=input:1x3x224x224 --optShapes=input:32x3x224x224 --maxShapes=input:256x3x224x224 --profilingVerbosity=detailed --dumpLayerInfo --exportLayerInfo=int8_layers.json --skipInference --saveEngine=int8.plan
#
# Benchmarking a saved engine: ``--loadEngine`` skips the build, ``--shapes`` picks the batch, and the
# report gives throughput and latency percentiles (``GPU Compute Time`` is the kernels alone, ``Latency``
# adds the host-device copies).
# On TensorRT 10, ``--useCudaGraph`` launches the whole engine as one CUDA graph, which removes the CPU
# launch overhead that dominates small batches, and ``--noDataTransfers`` leaves the copies out;
# TensorRT 11's trtexec does both by default and keeps the two options as no-ops.
# ``--dumpProfile --separateProfileRun`` adds a per-layer timing table from a separate run.
#
# .. code-block:: console
#
#    # TensorRT 10
#    $ trtexec --loadEngine=int8.plan --shapes=input:1x3x224x224 --useCudaGraph --noDataTransfers --warmUp=500 --iterations=2000
#    $ trtexec --loadEngine=int8.plan --shapes=input:32x3x224x224 --useCudaGraph --dumpProfile --separateProfileRun
#    # TensorRT 11
#    $ trtexec --loadEngine=int8.plan --shapes=input:1x3x224x224 --warmUp=500 --iterations=2000
#
# Common errors
# -------------
# * Every intermediate tensor fails with ``--atol``/``--rtol``: the elementwise check judges the worst of
#   hundreds of thousands of values. Compare a statistic (``--check-error-stat median`` or ``mean``) or
#   the SNR, and judge accuracy on a data set.
# * ``--load-outputs`` compares nothing, or only the logits: the two runs share no other tensor names.
#   Mark the same outputs in both runs (``--onnx-outputs mark all``); Q/DQ models add tensors that FP32
#   does not have, and those are skipped.
# * A Q/DQ model looks worse on ONNX Runtime than it should: run it with
#   ``--graph-optimization-level ORT_ENABLE_BASIC`` (or ``ORT_DISABLE_ALL`` to execute the file as written),
#   as above.
# * ``trtexec`` says ``Unknown option: --fp16`` (or ``--int8``, ``--best``, ``--calib``): TensorRT 11
#   removed them; build an AutoCast or Q/DQ model and build it as it is.
# * ``--useCudaGraph is deprecated`` on TensorRT 11: CUDA graphs are on by default; drop the option
#   (``--noCudaGraph`` turns them off).
# * ``polygraphy run --trt`` on TensorRT 10 builds a Q/DQ or FP16 model with the wrong precisions: add
#   ``--strongly-typed``.
