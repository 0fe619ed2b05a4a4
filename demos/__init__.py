"""Runnable demo code for the low-precision inference tutorial.

Subpackages: ``demos.quant`` (quantization math and calibrators), ``demos.trt`` (TensorRT helpers),
``demos.resnet50`` (the end-to-end pipeline with its CLI: ``python -m demos.resnet50 --help``).
"""
