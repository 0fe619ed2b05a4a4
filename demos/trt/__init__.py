"""TensorRT helpers shared by the demos (``demos.trt.rtx``: running TensorRT-RTX on a CPU-only machine)."""
