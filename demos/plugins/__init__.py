"""A TensorRT plugin for the ResNet50/EfficientNet pipeline: fused input preprocessing.

``PreprocessNHWC`` turns an NHWC image (the pixels as a decoder delivers them) into the normalized NCHW
tensor the network expects: ``out[n, c, h, w] = (in[n, h, w, c] - mean[c]) / std[c]``, in float32 or
float16.  Feeding the engine uint8 pixels instead of float32 cuts host-to-device bytes by 4x.

Modules (one job each; only the ones named "TensorRT" need TensorRT):

- :mod:`.fields`: the plugin's fields (mean, std, output dtype), their validation and encoding;
- :mod:`.reference`: NumPy and PyTorch references of the computation;
- :mod:`.cuda_kernel`: the CUDA C kernel, launched through CuPy;
- :mod:`.triton_kernel`: the same kernel in Triton;
- :mod:`.v3`: the ``IPluginV3`` plugin class and its creator (TensorRT or TensorRT-RTX);
- :mod:`.quick`: the ``tensorrt.plugin`` quickly deployable version (TensorRT >= 10.9: its AOT implementation);
- :mod:`.onnx_export`: the PyTorch custom op and its export to an ONNX plugin node;
- :mod:`.registry`: which implementation serves which namespace, and registering it;
- :mod:`.build`: parse the ONNX model and build a plan with the plugin registered (and its sidecar);
- :mod:`.run`: run such a plan (TensorRT and a GPU);
- :mod:`.gpu_check`: the kernels against the references on a GPU, with timings (writes JSON).

CLI: ``python -m demos.plugins --help``.
"""

PLUGIN_NAME = "PreprocessNHWC"
PLUGIN_VERSION = "1"
# The IPluginV3 class and the quickly deployable plugin register under different namespaces, so both can
# live in one process; the ONNX node's ``plugin_namespace`` attribute picks one.
PLUGIN_NAMESPACE = "lowprec"
QUICK_NAMESPACE = "lowprec_qdp"
