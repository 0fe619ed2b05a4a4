"""``PreprocessNHWC`` as a ``tensorrt.plugin`` quickly deployable plugin (QDP), with a Triton kernel.

Instead of a class with a dozen methods, a QDP is a few decorated functions.  ``tensorrt.plugin`` arrived in
TensorRT 10.6, but ``aot_impl``, ``KernelLaunchParams`` and ``SymIntExprs`` only in 10.9, so this module
needs TensorRT >= 10.9 (first versions read from NVIDIA's binding sources per release, recorded in
``paddle_style_guide/trt_api/first_versions.toml``):

- ``@trtp.register``: inputs, attributes (the fields) and the output's shape and dtype, symbolically;
- ``@trtp.autotune``: the type/format combinations the kernel supports;
- ``@trtp.impl``: the just-in-time (JIT) implementation, Python called by TensorRT at run time;
- ``@trtp.aot_impl``: the ahead-of-time (AOT) implementation: compiled PTX plus launch parameters, put into
  the plan, so running the engine needs neither Python nor this module.

Importing this module registers the plugin as ``lowprec_qdp::PreprocessNHWC``; an ONNX node with
``plugin_namespace="lowprec_qdp"`` then maps to it.  It needs TensorRT (not TensorRT-RTX, which has no
``tensorrt.plugin``); the JIT path also needs PyTorch on the GPU, the AOT path Triton at build time.

Signatures matter here: ``tensorrt.plugin`` checks every parameter name and annotation against the
``register`` signature, so no ``from __future__ import annotations`` (it would turn them into strings).
"""

# trt-api: 10.9, 11
from typing import List, Tuple, Union

import numpy as np
import numpy.typing as npt
import tensorrt as trt

from demos.errors import MissingRuntime

MIN_VERSION = (10, 9)  # tensorrt.plugin.aot_impl, KernelLaunchParams, SymIntExprs
if tuple(int(p) for p in trt.__version__.split(".")[:2]) < MIN_VERSION:
    raise MissingRuntime(f"the quickly deployable plugin needs TensorRT >= {MIN_VERSION[0]}.{MIN_VERSION[1]} "
                         f"(tensorrt.plugin.aot_impl), found {trt.__version__}")

import tensorrt.plugin as trtp  # noqa: E402

from demos.plugins import PLUGIN_NAME, QUICK_NAMESPACE, triton_kernel  # noqa: E402
from demos.plugins.fields import PreprocessFields, check_dtype, check_shape, parse_out_dtype  # noqa: E402

PLUGIN_ID = f"{QUICK_NAMESPACE}::{PLUGIN_NAME}"
_NAMES = {trt.float32: "float32", trt.float16: "float16", trt.uint8: "uint8"}
_OUT = {"float32": trt.float32, "float16": trt.float16}


def _fields(mean, std, out_dtype) -> PreprocessFields:
    # Validates, and drops the NUL the ONNX parser leaves at the end of string attributes.
    return PreprocessFields(mean=mean, std=std, out_dtype=out_dtype)


def _check_shape(desc: trtp.TensorDesc) -> None:
    """Check the input shape as far as this stage knows it.

    TensorRT calls the register function twice: first for the output dtype, with "fake" shape
    expressions (only the rank is known), then for the output shape, with real ones, where constant
    dimensions have values and dynamic ones do not.
    """
    exprs = list(desc.shape_expr)
    if any(e.is_fake for e in exprs):
        check_shape([-1, -1, -1, 3] if len(exprs) == 4 else [None] * len(exprs))  # the rank only
    else:
        check_shape([e.constant_value() if e.is_constant else None for e in exprs])


@trtp.register(PLUGIN_ID)
def preprocess_desc(image: trtp.TensorDesc, mean: npt.NDArray[np.float32], std: npt.NDArray[np.float32],
                    out_dtype: str) -> trtp.TensorDesc:
    fields = _fields(mean, std, out_dtype)
    check_dtype(_NAMES.get(image.dtype, str(image.dtype)))
    _check_shape(image)
    n, h, w, _ = image.shape_expr
    return trtp.from_shape_expr((n, 3, h, w), dtype=_OUT[fields.out_dtype])


@trtp.autotune(PLUGIN_ID)
def preprocess_autotune(image: trtp.TensorDesc, out_dtype: str,
                        outputs: Tuple[trtp.TensorDesc]) -> List[trtp.AutoTuneCombination]:
    # Input: float32 or float16, independently of the output ("*"); output: what out_dtype says.
    out = "FP16" if parse_out_dtype(out_dtype) == "float16" else "FP32"
    return [trtp.AutoTuneCombination(f"FP32*FP16, {out}", "LINEAR")]


@trtp.impl(PLUGIN_ID)
def preprocess_impl(image: trtp.Tensor, mean: npt.NDArray[np.float32], std: npt.NDArray[np.float32],
                    out_dtype: str, outputs: Tuple[trtp.Tensor], stream: int) -> None:
    import torch

    fields = _fields(mean, std, out_dtype)
    x = torch.as_tensor(image, device="cuda")  # zero-copy views through __cuda_array_interface__
    y = torch.as_tensor(outputs[0], device="cuda")
    with torch.cuda.stream(torch.cuda.ExternalStream(stream)):  # launch on TensorRT's stream
        triton_kernel.launch(x, y, fields)


@trtp.aot_impl(PLUGIN_ID)
def preprocess_aot_impl(image: trtp.TensorDesc, mean: npt.NDArray[np.float32], std: npt.NDArray[np.float32],
                        out_dtype: str, outputs: Tuple[trtp.TensorDesc], tactic: int
                        ) -> Tuple[Union[str, bytes], Union[str, bytes], trtp.KernelLaunchParams, trtp.SymIntExprs]:
    fields = _fields(mean, std, out_dtype)
    compiled = triton_kernel.compile_aot(_NAMES[image.dtype], fields)
    n, h, w, _ = image.shape_expr
    hw = h * w
    pixels = n * hw
    launch = trtp.KernelLaunchParams()
    launch.grid_x = trtp.cdiv(pixels, triton_kernel.BLOCK)
    launch.block_x = compiled.metadata.num_warps * 32
    launch.shared_mem = compiled.metadata.shared
    # Scalar kernel arguments, between the input and the output pointers: (in_ptr, hw, pixels, out_ptr).
    extra_args = trtp.SymIntExprs(2)
    extra_args[0] = trtp.SymInt32(hw)
    extra_args[1] = trtp.SymInt32(pixels)
    return compiled.metadata.name, compiled.asm["ptx"], launch, extra_args


def add_to_network(network: trt.INetworkDefinition, image: trt.ITensor, fields: PreprocessFields,
                   aot: bool = False) -> trt.IPluginV3Layer:
    """Add the plugin with the network API: ``network.add_plugin`` takes the plugin call directly.

    ``image`` is the uint8 NHWC network input, cast to float16 first; ``aot`` picks the AOT implementation.
    """
    half = network.add_cast(image, trt.float16).get_output(0)
    raw = fields.raw()
    plugin = getattr(getattr(trtp.op, QUICK_NAMESPACE), PLUGIN_NAME)  # trtp.op.lowprec_qdp.PreprocessNHWC
    return network.add_plugin(plugin(half, mean=raw["mean"], std=raw["std"], out_dtype=fields.out_dtype), aot=aot)
