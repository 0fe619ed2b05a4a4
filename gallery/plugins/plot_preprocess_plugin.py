"""
A TensorRT plugin: fused input preprocessing
============================================

Sooner or later a deployment meets a layer that TensorRT does not have, and the answer is a plugin:
your own kernel, wrapped in an interface that TensorRT's builder and runtime know how to call.
This page writes one for the ResNet50 pipeline of this tutorial, twice: as an ``IPluginV3`` class with a
CUDA kernel, and as a ``tensorrt.plugin`` quickly deployable plugin with a Triton kernel.
It exports the plugin from PyTorch as an ONNX node, lets the TensorRT ONNX parser find the plugin, and
builds a plan with it.

The page runs on a CPU when the site is built.
TensorRT-RTX builds the plan here for real: every build-time method of the plugin is called by its
builder.
What needs a GPU (running the kernels, copying images to the GPU) was measured separately with
``python -m demos.plugins.gpu_check`` and is read from the committed result file; what needs the TensorRT
datacenter package is listed at the end of the run, together with how it is checked instead.
All code lives in ``demos/plugins``; this page imports it.
"""

# %%
# Why this plugin
# ---------------
# A camera or JPEG decoder delivers pixels as 8-bit integers in NHWC order (height, width, then the three
# colour channels).
# ResNet50 wants float32 in NCHW order, normalized per channel: ``(x - mean) / std``.
# The usual pipeline does this on the CPU and copies the float32 tensor to the GPU, four bytes per value.
# Copying the 8-bit image instead and preprocessing on the GPU moves a quarter of the bytes over PCIe, and
# the CPU is free for decoding.
# The figure shows what that is worth: the time to copy one batch from pinned host memory to the GPU, as
# uint8, float16 and float32, measured on the GPU machine by ``python -m demos.plugins.gpu_check`` (its
# result file is committed with the GPU, driver and library versions).
#
# The preprocessing is one elementwise pass with a layout change, a good first plugin: small enough to read
# in full, yet every part of the plugin interface is needed (fields for mean and std, a choice of output
# dtype, dynamic batch and image size).
# TensorRT could express the same computation with built-in layers (Cast, ElementWise, Shuffle), and that
# is a fair alternative; a plugin earns its place when the step grows beyond what layers express well
# (resizing, colour conversion, cropping in one kernel) or when you want the exact kernel you tested.
#
# One rule shapes the design: TensorRT plugins cannot take UINT8 tensors (the builder reports
# "UInt8 datatype formats are not supported"; the ``DataType.UINT8`` documentation says to convert uint8
# network inputs to float32 or float16 before any other layer uses them).
# So the uint8 image enters the engine, a Cast layer turns it into float16 on the GPU (float16 holds every
# integer from 0 to 255 exactly), and the plugin reads float16.
# The bytes that cross PCIe are still the uint8 ones.

import importlib.util
import json
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from demos import data, plugins
from demos.plugins import PLUGIN_NAME, PLUGIN_NAMESPACE, QUICK_NAMESPACE
from demos.plugins.fields import EFFICIENTNET_LITE, IMAGENET, nbytes_per_image

batch = 32
sizes = {dtype: batch * n for dtype, n in nbytes_per_image(224, 224).items()}
for dtype, n in sizes.items():
    layout = "NHWC" if dtype == "uint8" else "NCHW"
    print(f"batch of {batch} images 224x224 as {dtype:<8} {layout}: {n / 2**20:6.2f} MiB "
          f"({n // sizes['uint8']}x the uint8 bytes)")
print(f"ImageNet fields (ResNet50):        {IMAGENET.describe()}")
print(f"EfficientNet-Lite fields:          {EFFICIENTNET_LITE.describe()}")

results_dir = Path(plugins.__file__).resolve().parent / "results"
gpu_results = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(results_dir.glob("*.json"))]
if gpu_results:
    measured = gpu_results[-1]
    gpu = measured["provenance"].get("gpu") or {}
    transfers = measured["transfers"]
    print(f"measured on {gpu.get('name')} (driver {gpu.get('driver')}), {measured['provenance']['date'][:10]}, "
          f"{transfers[0]['runs']} copies each:")
    for t in transfers:
        print(f"  {t['dtype']:<8} {t['bytes'] / 2**20:6.2f} MiB  median {t['median_us']:6.1f} us "
              f"(p10 {t['p10_us']:.1f}, p90 {t['p90_us']:.1f})  {t['bytes'] / t['median_us'] / 1e3:5.1f} GB/s")
    speedup = transfers[-1]["median_us"] / transfers[0]["median_us"]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    labels = [f"{t['dtype']}, {t['bytes'] / 2**20:.1f} MiB" for t in transfers]
    medians = [t["median_us"] for t in transfers]
    spread = [[t["median_us"] - t["p10_us"] for t in transfers], [t["p90_us"] - t["median_us"] for t in transfers]]
    ax.barh(labels, medians, xerr=spread, color=["tab:green", "tab:orange", "tab:red"][:len(transfers)], capsize=3)
    for y, t in enumerate(transfers):
        ax.text(t["p90_us"], y, f"  {t['median_us']:.0f} us", va="center", fontsize=9)
    ax.set_xlim(0, max(t["p90_us"] for t in transfers) * 1.25)
    ax.set_xlabel("median copy time from pinned host memory (us); whiskers: p10 to p90")
    ax.invert_yaxis()
    fig.suptitle(f"Copying {batch} images of 224 x 224 to the {gpu.get('name')}:\nas uint8 it takes "
                 f"{transfers[0]['median_us']:.0f} us, {speedup:.1f}x less than as float32 "
                 f"({transfers[-1]['median_us']:.0f} us)", fontsize=10)
    fig.tight_layout()
else:
    print(f"No GPU measurement is committed in {results_dir.name}/; run python -m demos.plugins.gpu_check on a GPU.")

# %%
# The computation, and two references
# ------------------------------------
# The plugin computes ``out[n, c, h, w] = (in[n, h, w, c] - mean[c]) / std[c]`` in float32, then rounds
# once to the output dtype.
# Mean and std are in pixel units: torchvision's ``(x / 255 - m) / s`` is the same as
# ``(x - 255 m) / (255 s)``.
# ``demos.plugins.reference`` holds a NumPy and a PyTorch version; they perform the same IEEE operations in
# the same order, so they agree bit for bit, and so must the GPU kernels.
# Here one sample image goes through the reference and through the float32 preprocessing of the ResNet50
# demo (``demos.data``): the plugin computes what the pipeline computed on the CPU.

from demos.plugins.reference import decoded_pixels, preprocess_numpy, preprocess_torch

items = data.discover(data.SAMPLES) if data.SAMPLES.is_dir() else []
if items:
    item = items[0]
    img = data.load_rgb(item.path)
    pre = data.Preprocess()
    pixels = decoded_pixels(img, pre)  # the resize and center crop of demos.data.preprocess, kept as uint8
    pipeline = data.preprocess(img, pre)[None]  # float32 NCHW, computed as (x / 255 - m) / s
    print(f"sample image {item.rel} (class {item.label}): uint8 {pixels.shape}, {pixels.nbytes} bytes")
else:
    pixels = np.random.default_rng(0).integers(0, 256, size=(1, 224, 224, 3), dtype=np.uint8)
    pipeline = None
    print(f"the sample images are not at {data.SAMPLES}; using a random uint8 image instead")

ours = preprocess_numpy(pixels, IMAGENET)
print(f"reference output: {ours.dtype} {ours.shape}, {ours.nbytes} bytes, "
      f"range [{ours.min():.3f}, {ours.max():.3f}]")
same = np.array_equal(ours.view(np.uint32), preprocess_torch(torch.from_numpy(pixels), IMAGENET).numpy().view(np.uint32))
print(f"NumPy and PyTorch references bit-identical: {same}")
if pipeline is not None:
    print(f"largest difference to the pipeline's (x / 255 - m) / s: {np.abs(ours - pipeline).max():.2e}")

# %%
# The kernel
# ----------
# One CUDA thread per pixel reads the three channels, which sit next to each other in NHWC, and writes
# them to three planes.
# The same source serves uint8 input (a standalone preprocessing step), float16 (inside TensorRT, after
# the Cast) and float32.
# Half-precision values are converted with explicit round-to-nearest instructions, and NVRTC compiles
# without fast math, so ``/`` is the correctly rounded division: these two details are what make
# bit-exact agreement with NumPy possible.
#
# .. literalinclude:: /demos/plugins/cuda_kernel.py
#    :language: cuda
#    :start-after: CUDA_SOURCE = r"""
#    :end-before: """
#
# NVRTC is a host-side compiler, so the source can be compiled on this CPU-only machine; the PTX shows the
# division and conversion instructions the GPU will execute.
# The Triton version, used by the quickly deployable plugin, does the same with ``tl.math.div_rn`` (Triton's
# ``/`` on float32 is an approximation):
#
# .. literalinclude:: /demos/plugins/triton_kernel.py
#    :pyobject: preprocess_kernel

import re

from demos.plugins import cuda_kernel

ptx = cuda_kernel.compile_ptx("compute_80")
kernels = re.findall(r"\.entry (\w+)", ptx)
divisions = sorted(set(re.findall(r"div\.[a-z]+\.f32", ptx)))
conversions = sorted(set(re.findall(r"cvt\.[a-z]+\.f16\.f32", ptx)))
print(f"NVRTC compiled {len(ptx)} bytes of PTX for compute_80; kernels: {', '.join(kernels)}")
print(f"float32 division instructions: {divisions}; float32 -> float16 conversions: {conversions}")

# %%
# The IPluginV3 class
# -------------------
# ``IPluginV3`` (TensorRT 10.0 and later) splits a plugin into capabilities that TensorRT asks for with
# ``get_capability_interface``: *core* (name, version, namespace), *build* (everything the builder asks) and
# *runtime* (execution and serialization).
# One Python class can implement all three.
# The constructor sets the identity the creator and the ONNX node must match:
#
# .. literalinclude:: /demos/plugins/v3.py
#    :pyobject: PreprocessPlugin.__init__
#
# The build capability describes the output: its dtype follows the ``out_dtype`` field, and its shape is
# written as symbolic expressions, because batch, height and width are only known at run time.
#
# .. literalinclude:: /demos/plugins/v3.py
#    :pyobject: PreprocessPlugin.get_output_shapes
#
# TensorRT then negotiates formats, one position at a time; returning ``False`` is how the plugin declines
# a combination (UINT8, or a vectorized layout such as ``HWC8``):
#
# .. literalinclude:: /demos/plugins/v3.py
#    :pyobject: PreprocessPlugin.supports_format_combination
#
# At run time ``enqueue`` receives device pointers and TensorRT's CUDA stream, wraps the pointers as CuPy
# arrays without copying, and launches the CUDA kernel on that stream:
#
# .. literalinclude:: /demos/plugins/v3.py
#    :pyobject: PreprocessPlugin.enqueue
#
# Every callback is wrapped so that an exception's message is kept: TensorRT itself only learns that the
# call failed.
# The creator turns fields into a plugin; the ONNX parser calls it at build time and the runtime calls it
# again, with what ``get_fields_to_serialize`` returned, when it loads a plan.
#
# .. literalinclude:: /demos/plugins/v3.py
#    :pyobject: PreprocessCreator.create_plugin
#
# Below, the creator is registered with TensorRT-RTX's plugin registry and the plugin's build-time methods
# are called directly, including a serialization round trip.

from demos.plugins import v3

trt = v3.trt
creator = v3.register_creator()
print(f"{v3.BACKEND} {trt.__version__}: registered {creator.name} version {creator.plugin_version} in "
      f"namespace {creator.plugin_namespace!r}; fields: "
      + ", ".join(f"{f.name} ({str(f.type).split('.')[-1]})" for f in creator.field_names))

plugin = v3.make_plugin(IMAGENET.with_out_dtype("float16"))
print("output dtype for a float16 input:", plugin.get_output_data_types([trt.DataType.HALF]))
try:
    plugin.get_output_data_types([trt.DataType.UINT8])
except Exception as exc:  # what the builder would be told, and what we keep
    print("uint8 input refused:", exc)


def desc(dtype, fmt=trt.TensorFormat.LINEAR):
    d = trt.DynamicPluginTensorDesc()
    d.desc.type, d.desc.format = dtype, fmt
    return d


print("format negotiation (position 0 = input, 1 = output):")
for pos, io in [(0, [desc(trt.DataType.HALF), desc(trt.DataType.HALF)]),
                (0, [desc(trt.DataType.UINT8), desc(trt.DataType.HALF)]),
                (0, [desc(trt.DataType.HALF, trt.TensorFormat.HWC8), desc(trt.DataType.HALF)]),
                (1, [desc(trt.DataType.HALF), desc(trt.DataType.HALF)]),
                (1, [desc(trt.DataType.HALF), desc(trt.DataType.FLOAT)])]:
    d = io[pos].desc
    print(f"  position {pos}: {str(d.type).split('.')[-1]:>5} {str(d.format).split('.')[-1]:<6} -> "
          f"{plugin.supports_format_combination(pos, io, 1)}")

serialized = plugin.get_fields_to_serialize()
restored = creator.create_plugin("preprocess", serialized, trt.TensorRTPhase.RUNTIME)
print("serialized fields:", [(f.name, str(f.type).split(".")[-1], np.array(f.data).tolist()) for f in serialized])
print("round trip restores the same fields:", restored.fields == plugin.fields)

# %%
# One trap of the Python bindings deserves a sentence: ``trt.PluginField`` keeps a pointer to the array it
# is given, not the array itself.
# A collection built from temporary arrays points at freed memory as soon as Python collects them, and
# TensorRT reads garbage.
# ``FieldCollection`` therefore keeps the arrays and the collection together, and the plugin holds its
# serialized fields for its whole life.
#
# The quickly deployable plugin
# -----------------------------
# Since TensorRT 10.6, ``tensorrt.plugin`` turns a few decorated functions into a plugin (a *quickly
# deployable plugin*); its ahead-of-time part (``aot_impl``, ``KernelLaunchParams``, ``SymIntExprs``) came
# in TensorRT 10.9, so ``demos.plugins.quick`` needs 10.9 or newer.
# ``@trtp.register`` declares inputs, attributes and the output, symbolically; ``@trtp.autotune`` the
# supported type and format combinations; ``@trtp.impl`` a just-in-time implementation, Python code that
# TensorRT calls at run time; ``@trtp.aot_impl`` an ahead-of-time implementation, compiled PTX plus launch
# parameters that go into the plan, so the engine runs without Python.
# ``tensorrt.plugin`` checks every signature against the ``register`` one, parameter names and annotations
# included.
#
# .. literalinclude:: /demos/plugins/quick.py
#    :pyobject: preprocess_desc
#
# .. literalinclude:: /demos/plugins/quick.py
#    :pyobject: preprocess_impl
#
# .. literalinclude:: /demos/plugins/quick.py
#    :pyobject: preprocess_aot_impl
#
# Mean and std are compile-time constants of the AOT kernel (only integers can be passed at run time),
# while the number of pixels stays a run-time argument computed from the symbolic input shape.
# Which implementation a build uses is the ONNX node's choice: an integer attribute ``aot`` (1: AOT), which
# the exporter writes for this namespace; without it TensorRT's parser takes the JIT implementation.
# TensorRT-RTX has no ``tensorrt.plugin``, and the TensorRT datacenter package cannot be installed on this
# machine, so registering this plugin is skipped here; the tests run it against the real
# ``tensorrt.plugin`` code of the TensorRT 10 and 11 binding wheels.
# What the AOT implementation hands to TensorRT can be produced on the CPU, though: Triton compiles the
# kernel to PTX for a named GPU.

from triton.backends.compiler import GPUTarget

from demos.plugins import triton_kernel

has_tensorrt = importlib.util.find_spec("tensorrt") is not None
print(f"tensorrt (with tensorrt.plugin) installed: {has_tensorrt}")
compiled = triton_kernel.compile_aot("float16", IMAGENET.with_out_dtype("float16"), target=GPUTarget("cuda", 80, 32))
params = re.findall(r"\.param \.(\w+)", compiled.asm["ptx"])
print(f"AOT kernel {compiled.metadata.name!r} for sm_80: {len(compiled.asm['ptx'])} bytes of PTX, "
      f"{compiled.metadata.num_warps * 32} threads per block, {compiled.metadata.shared} bytes of shared memory")
print(f"kernel parameters: {params} (in_ptr, hw, pixels, out_ptr, then Triton's scratch pointers, unused: "
      f"scratch size {compiled.metadata.global_scratch_size})")

# %%
# The ONNX node
# -------------
# In PyTorch the preprocessing is a custom operator, ``torch.ops.lowprec.preprocess_nhwc``, whose
# implementation is the PyTorch reference, so the model still runs and can be tested in PyTorch.
# At export a translation function replaces it with two ONNX nodes: a ``Cast`` to float16 and a node whose
# op type is the plugin's name, with the fields and ``plugin_namespace`` and ``plugin_version`` as
# attributes.
#
# .. literalinclude:: /demos/plugins/onnx_export.py
#    :pyobject: translation
#
# TensorRT's ONNX parser has no importer for ``PreprocessNHWC``; it then looks the name, version and
# namespace up in the plugin registry and calls the creator with the other attributes as fields.
# The namespace picks the implementation: ``lowprec`` for the ``IPluginV3`` class, ``lowprec_qdp`` for the
# quickly deployable plugin, which also gets ``aot=1`` (``--jit`` on the command line writes ``aot=0``).
# Each namespace has its own creator: the build registers the ``IPluginV3`` creator for ``lowprec`` only and
# imports ``demos.plugins.quick`` for ``lowprec_qdp``, so the parser cannot take one for the other.
# The model exported here is the plugin followed by ResNet50's first block (convolution, batch norm, ReLU,
# max pooling) with seeded random weights: enough to see the plugin feed a convolution, not a trained model.

import onnx

from demos.plugins import onnx_export

workdir = Path(tempfile.mkdtemp(prefix="plugin-page-"))
stem_path = onnx_export.export(onnx_export.WithPreprocess(onnx_export.resnet_stem(), IMAGENET),
                               workdir / "preprocess_stem.onnx")
model = onnx.load(str(stem_path))
graph_input = model.graph.input[0]
dims = [d.dim_param or d.dim_value for d in graph_input.type.tensor_type.shape.dim]
print(f"input {graph_input.name!r}: {onnx.helper.tensor_dtype_to_np_dtype(graph_input.type.tensor_type.elem_type)} {dims}")
for node in model.graph.node:
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == PLUGIN_NAME:
        shown = {k: (v.decode() if isinstance(v, bytes) else [round(x, 4) for x in v]) for k, v in attrs.items()}
        print(f"  {node.op_type} (domain {node.domain!r}): {shown}")
    else:
        print(f"  {node.op_type}")
print("plugin nodes check out:", [(name, ns) for name, _, ns in onnx_export.check_plugin_nodes(model)])
qdp_node = onnx_export.plugin_nodes(onnx_export.plugin_only_model(IMAGENET, QUICK_NAMESPACE))[0]
print(f"the same node for {QUICK_NAMESPACE}: " + ", ".join(
    f"{a.name}={onnx.helper.get_attribute_value(a)!r}" for a in qdp_node.attribute if a.name in ("plugin_namespace", "aot")))

# %%
# Building a plan with TensorRT-RTX
# ---------------------------------
# TensorRT-RTX builds plans without a GPU.
# Its ONNX parser, on meeting a plugin node, loads the unversioned library ``libtensorrt_rtx.so``, which
# the wheel does not ship; without it the process aborts with a bare
# ``terminate called without an active exception``.
# The library is looked up through ``LD_LIBRARY_PATH``, read once when a process starts, so
# ``demos.trt.rtx`` keeps a symlink in a cache folder and the build runs in a child process that has it
# on its path.
# The child registers the creator, parses the model, sets an optimization profile for dynamic batch, height
# and width, and builds.
# The report lists the layers, every plugin method the builder called, and whether the serialized fields
# are inside the plan.
# Written to a file, the plan gets a sidecar ``<plan>.json`` that names the plugins it contains and what it
# was built for; ``demos.trt.runtime.Engine`` reads it, refuses a plan from another TensorRT version or GPU,
# and registers the plugins' creators before it deserializes the plan, because TensorRT re-creates every
# plugin layer from the plugin registry.

from demos.errors import UserError
from demos.plugins.build import Profile, build_in_child

report = build_in_child(stem_path, profile=Profile(min=(1, 64, 64), opt=(8, 224, 224), max=(32, 512, 512)))
print(f"built with {report['tensorrt']['product']} {report['tensorrt']['version']}: "
      f"a {report['plan']['bytes'] / 2**10:.0f} KiB plan")
print("layers:", " -> ".join(f"{layer['type']}" for layer in report["network"]["layers"]))
print("input:", report["network"]["inputs"], "\noutput:", report["network"]["outputs"])
print("optimization profile (N, H, W, C):", report["profile"])
print("plugin methods called by the builder:", report["plugin_calls"])
print("serialized fields found in the plan:", report["plan"]["contains_fields"])
print("plugins the sidecar lists:", [(p["namespace"], p["implementation"]) for p in report["plugins"]])

# %%
# Bad inputs are refused with a message that says what to change, first by ``check_plugin_nodes`` before
# TensorRT sees the model, and, if that is bypassed, by the plugin's own callbacks inside the parser.
# Here the Cast is removed, so the plugin would receive the uint8 image directly.

no_cast = onnx.load(str(stem_path))
no_cast.graph.node[1].input[0] = no_cast.graph.input[0].name
del no_cast.graph.node[0]
onnx.save(no_cast, str(workdir / "uint8_into_plugin.onnx"))
for checks in (True, False):
    try:
        build_in_child(workdir / "uint8_into_plugin.onnx", onnx_checks=checks)
    except UserError as exc:
        print(f"{'Python checks' if checks else 'plugin callback'}: {exc}")
shutil.rmtree(workdir)

# %%
# What this run skipped
# ---------------------
# The list below is computed from what is installed on the machine that built this page.

skipped = []
if not has_tensorrt or not torch.cuda.is_available():
    skipped.append("running a plan with the plugin (python -m demos.plugins run --plan, or python -m demos.selfcheck): "
                   "needs TensorRT and a GPU, and this TensorRT-RTX plan runs only on an RTX GPU; the kernels were "
                   "checked on a GPU instead, see the next section")
if not has_tensorrt:
    skipped.append(f"the quickly deployable plugin ({QUICK_NAMESPACE}::{PLUGIN_NAME}): registering, JIT and AOT "
                   "builds need the TensorRT package; tests/plugins/test_trt_bindings.py runs it against the "
                   "real tensorrt.plugin of TensorRT 10.16 and 11.4 instead")
if v3.BACKEND == "TensorRT-RTX":
    skipped.append(f"adding the plugin with the network API (v3.add_to_network, {PLUGIN_NAMESPACE}): TensorRT-RTX's "
                   "INetworkDefinition has no add_plugin_v3; its names are checked against the TensorRT 10/11 "
                   "bindings by paddle_style_guide.trt_api")
print("\n".join(f"skipped: {s}" for s in skipped) or "nothing skipped")

# %%
# The kernels on a GPU
# --------------------
# ``python -m demos.plugins.gpu_check`` runs both kernels on random images of several shapes (fresh inputs
# for every case, outputs filled with NaN beforehand so an unwritten element cannot pass), compares them
# with the NumPy and PyTorch references, and times them with CUDA events against PyTorch's own operations.
# Its JSON result, with the GPU, driver and library versions, is committed in ``demos/plugins/results/``.

if not gpu_results:
    print(f"No GPU results are committed yet: {results_dir.name}/ holds no JSON file.\n"
          "To produce one, run on a GPU machine (PyTorch, CuPy and Triton; no TensorRT needed):\n"
          "  python -m demos.plugins.gpu_check --out demos/plugins/results/gpu_check.json")
for doc in gpu_results:
    prov = doc["provenance"]
    gpu = prov.get("gpu") or {}
    libs = prov["libraries"]
    print(f"{gpu.get('name')} (driver {gpu.get('driver')}), CUDA runtime {libs['cuda_runtime']}, "
          f"torch {libs['torch']}, CuPy {libs['cupy']}, Triton {libs['triton']}, measured {prov['date']}")
    s = doc["summary"]
    print(f"  {s['passed']}/{s['cases']} cases pass; {s['bit_exact_cases']} bit-identical to NumPy; "
          f"largest |error| {s['max_abs_err_vs_numpy']:.3g}")
    print(f"  {'kernel':<10}{'input':>9}{'output':>9}{'cases':>7}{'max |err|':>11}{'exact %':>9}")
    groups = {}
    for c in doc["checks"]:
        groups.setdefault((c["kernel"], c["in_dtype"], c["out_dtype"]), []).append(c)
    for (kernel, i, o), cs in groups.items():
        err = max(c["vs_numpy"]["max_abs_err"] for c in cs)
        exact = 100 * min(c["vs_numpy"]["exact_match_rate"] for c in cs)
        print(f"  {kernel:<10}{i:>9}{o:>9}{len(cs):>7}{err:>11.3g}{exact:>9.2f}")
    print("  host-to-device copy of one batch (pinned memory):")
    for t in doc["transfers"]:
        print(f"    {t['dtype']:<8} {t['bytes'] / 2**20:7.2f} MiB  {t['median_us']:8.1f} us")
    rows = [t for t in doc["timings"] if t["out_dtype"] == "float32"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for impl, in_dtype in sorted({(t["impl"], t["in_dtype"]) for t in rows}):
        sel = sorted((t for t in rows if (t["impl"], t["in_dtype"]) == (impl, in_dtype)), key=lambda t: t["shape"][0])
        ax.plot([t["shape"][0] for t in sel], [t["median_us"] for t in sel], marker="o", label=f"{impl} ({in_dtype} in)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size (224 x 224 images)")
    ax.set_ylabel("median time per call (us)")
    ax.set_title(f"Preprocessing 224 x 224 images to float32 on {gpu.get('name')}:\nmedian time per call of the "
                 "CUDA (CuPy) and Triton kernels and of PyTorch's operations", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()

# %%
# From IPlugin to IPluginV3
# -------------------------
# Older articles describe interfaces that no longer exist.
# This is how they map to the current ones:
#
# - ``IPlugin`` and ``IPluginExt``, added to a network with ``addPlugin`` / ``addPluginExt`` and recreated
#   from a plan through an ``IPluginFactory``, were removed in TensorRT 8.0.
#   The ``IPluginV2`` family (``IPluginV2``, ``IPluginV2Ext``, ``IPluginV2IOExt``, ``IPluginV2DynamicExt``)
#   with an ``IPluginCreator`` and the plugin registry replaced them.
# - The Caffe and UFF parsers hooked plugins in through their own factories (``nvcaffeparser1::IPluginFactory``
#   and ``IPluginFactoryV2``; UFF mapped TensorFlow nodes to registry plugin names).
#   The TensorRT 8 API reference lists both parsers as deprecated, with removal announced for 9.0, and
#   TensorRT 10 has neither: export to ONNX and use the ONNX parser, which finds plugins in the registry by
#   op type, version and namespace, as on this page.
# - ``IPluginV3`` with ``IPluginCreatorV3One`` arrived in TensorRT 10.0, added to a network with
#   ``add_plugin_v3``; the ``IPluginV2`` family and ``IPluginCreator`` were deprecated in the same release
#   (``add_plugin_v2`` with them) and are still present, deprecated, in TensorRT 11.
# - ``tensorrt.plugin`` (TensorRT 10.6 and later) defines plugins from decorated Python functions;
#   ``network.add_plugin`` adds them with the network API, and ``aot_impl`` (TensorRT 10.9 and later) puts
#   compiled kernels into the plan.
# - TensorRT-RTX shares the ``IPluginV3`` classes and the plugin registry but has neither ``add_plugin_v3``
#   nor ``tensorrt.plugin``: plugins reach it through the ONNX parser.
#
# The presence and absence of each name is checked below against the introspected binding wheels, and the
# last column gives, for the names this repository's code uses, the first TensorRT 10.x release that has
# them, read from the binding sources of every 10.x release of NVIDIA/TensorRT
# (``paddle_style_guide/trt_api/first_versions.toml``).
#
# The dates and versions come from NVIDIA's API references and release notes, cited in the comments of
# the code below.

# Sources:
# TensorRT 8.0.1 API changes, IPlugin/IPluginExt/IPluginFactory/addPlugin removed:
#   https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-801/pdf/TensorRT-API.pdf
# TensorRT 6.0.1 Python API, listing IPlugin, IPluginExt and IPluginFactory next to IPluginV2:
#   https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-601/tensorrt-api/python_api/infer/Plugin/pyPlugin.html
# Caffe parser plugin factories (IPluginFactoryV2):
#   https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-843/api/c_api/namespacenvcaffeparser1.html
# TensorRT 8.0.3 deprecated APIs, "ICaffeParser will be removed in TensorRT 9.0":
#   https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-803/api/c_api/deprecated.html
# TensorRT 10.0.1 deprecated APIs, IPluginCreator deprecated in 10.0 for IPluginCreatorV3One + IPluginV3:
#   https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-1001/api/c_api/deprecated.html
# "Starting in TensorRT 10.0, the only plugin interface recommended is IPluginV3, as others are deprecated":
#   https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/extending-custom-layers.html
# TensorRT 11.0 deprecated APIs, addPluginV2 listed:
#   https://docs.nvidia.com/deeplearning/tensorrt/11.0.0/_static/c-api/deprecated.html
# TensorRT 10.0 OSS release (ONNX parser support for IPluginV3):
#   https://github.com/NVIDIA/TensorRT/releases/tag/v10.0.0
# TensorRT 10.9: tensorrt.plugin gains aot_impl, KernelLaunchParams and SymIntExprs (binding sources at the v10.8.0
# and v10.9.0 tags of https://github.com/NVIDIA/TensorRT, python/packaging/bindings_wheel/tensorrt/plugin/);
# the sample README: QDPs "will be the recommended option when it becomes a stable feature in 10.9":
#   https://github.com/NVIDIA/TensorRT/tree/release/10.9/samples/python/quickly_deployable_plugins
# TensorRT 10.6 release notes, quickly deployable plugins introduced:
#   https://docs.nvidia.com/deeplearning/tensorrt/latest/getting-started/release-notes-10/10.6.0.html
# tensorrt.plugin.aot_impl reference:
#   https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/python-api/infer/tensorrt.plugin/trt_plugin_aot_impl/index.html
from paddle_style_guide.trt_api import first_versions
from paddle_style_guide.trt_api.bindings import BindingsError, load_surfaces

names = ["IPlugin", "IPluginExt", "IPluginFactory", "UffParser", "CaffeParser", "OnnxParser",
         "IPluginV2DynamicExt", "IPluginCreator", "INetworkDefinition.add_plugin_v2",
         "IPluginV3", "IPluginCreatorV3One", "INetworkDefinition.add_plugin_v3",
         "INetworkDefinition.add_plugin", "plugin.register", "plugin.aot_impl", "plugin.KernelLaunchParams"]
since = first_versions.load()
try:
    surfaces = load_surfaces()
except BindingsError as exc:
    print(f"skipped: the binding wheels could not be introspected ({exc})")
else:
    # Short column heads (product and major.minor) keep the table within the page width; the full versions
    # come first.
    heads = {key: ("RTX " if "RTX" in s.product else "TRT ") + ".".join(s.version.split(".")[:2])
             for key, s in surfaces.items()}
    for key, s in surfaces.items():
        print(f"{heads[key]}: the {s.label} bindings")
    print(f"{'name':<34}" + "".join(f"{heads[key]:>10}" for key in surfaces) + f"{'first 10.x':>12}")
    for name in names:
        cells = ["yes" if s.has(f"{s.module}.{name}") else "-" for s in surfaces.values()]
        first = since.get(f"tensorrt.{name}")
        print(f"{name:<34}" + "".join(f"{c:>10}" for c in cells) + f"{'%d.%d' % first if first else '':>12}")
