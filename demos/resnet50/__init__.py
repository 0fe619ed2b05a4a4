"""The ResNet50 end-to-end demo: export -> FP16 -> INT8 PTQ -> QAT -> engines -> accuracy and speed report.

Run ``python -m demos.resnet50 --help``. Each stage is one small module with a library function (used by
the gallery pages) and a ``run(args)`` entry point (used by the CLI):

=========  ==========================================================================================
export     :mod:`demos.resnet50.export`    PyTorch model -> FP32 ONNX with a dynamic batch axis
fp16       :mod:`demos.resnet50.fp16`      strongly typed FP16 ONNX (ModelOpt AutoCast), FP32 I/O
ptq        :mod:`demos.resnet50.ptq`       INT8 Q/DQ ONNX per calibrator, plus CPU-deployable INT8 forms
qat        :mod:`demos.resnet50.qat`       ModelOpt fake-quant fine-tune -> Q/DQ ONNX
build      :mod:`demos.resnet50.build`     TensorRT 11 / TensorRT 10 / TensorRT-RTX engines
eval       :mod:`demos.resnet50.evaluate`  top-1/top-5, agreement with FP32, logit error
bench      :mod:`demos.resnet50.bench`     latency and throughput (ORT CPU, PyTorch GPU, TensorRT)
report     :mod:`demos.resnet50.report`    JSON + Markdown table + plot with provenance
=========  ==========================================================================================
"""

from pathlib import Path

# The committed result files of the demo (package data: the same path in a clone and in an installed wheel).
RESULTS = Path(__file__).resolve().parent / "results"
