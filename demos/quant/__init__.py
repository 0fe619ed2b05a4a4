"""Quantization math and calibrators used by the gallery and the ResNet50 demo.

The core is plain NumPy; every function also accepts PyTorch tensors (converted with
``.detach().cpu().numpy()``). Modules:

* :mod:`~demos.quant.formats` -- facts about FP32/TF32/BF16/FP16/FP8/INT8/INT4, from the types themselves;
* :mod:`~demos.quant.quantize` -- symmetric quantize/dequantize, per tensor or per channel;
* :mod:`~demos.quant.histogram` -- a streaming histogram of |x| with bounded memory, exact under streaming;
* :mod:`~demos.quant.calibrators` -- amax from max, percentile, entropy (TensorRT's KL algorithm) and MSE;
* :mod:`~demos.quant.collect` -- forward hooks that stream a torch model's activations into histograms.
"""

from ._arrays import QuantInputError, to_numpy
from .calibrators import (
    METHODS,
    calibrate,
    entropy_amax,
    entropy_curve,
    max_amax,
    mse_amax,
    mse_curve,
    per_channel_max,
    percentile_amax,
)
from .formats import FORMAT_NAMES, FormatInfo, all_formats, format_info, representable_values, round_to_tf32
from .histogram import Histogram, HistogramCollector, histogram_of
from .quantize import (
    QUANT_TYPES,
    dequantize,
    error_breakdown,
    fake_quantize,
    quant_type,
    quantize,
    scale_from_amax,
)

__all__ = [
    "FORMAT_NAMES", "METHODS", "QUANT_TYPES", "FormatInfo", "Histogram", "HistogramCollector",
    "QuantInputError", "all_formats", "calibrate", "dequantize", "entropy_amax", "entropy_curve",
    "error_breakdown", "fake_quantize", "format_info", "histogram_of", "max_amax", "mse_amax", "mse_curve",
    "per_channel_max", "percentile_amax", "quant_type", "quantize", "representable_values",
    "round_to_tf32", "scale_from_amax", "to_numpy",
]
