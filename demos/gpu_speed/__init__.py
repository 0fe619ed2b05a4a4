"""Why low precision is fast: GPU measurements and the arithmetic behind the "Speed" page.

* ``python -m demos.gpu_speed --out RESULT.json`` measures dense matmul throughput per data type and DRAM
  bandwidth on a GPU with PyTorch (:mod:`.microbench`) and writes them with provenance (:mod:`.results`).
* ``python -m demos.gpu_speed.alignment --out RESULT.json``: the tensor-core alignment rule, FP16 and INT8
  layers with 63 to 128 channels, as is and zero-padded (:mod:`.alignment`).
* ``python -m demos.gpu_speed.latency --out RESULT.json``: ResNet50 latency (p50/p99) at batch 1 and over a
  batch sweep, eager, CUDA graphs and ``torch.compile`` (:mod:`.latency`).
* :mod:`.machine`: the GPU provenance the three command lines share.
* :mod:`.datasheet`: NVIDIA's datasheet peaks for the H100 SXM and H200 SXM, with their sources.
* :mod:`.mlperf`: published MLPerf Inference ResNet50 results, with their sources.
* :mod:`.roofline`: ResNet50's work and memory traffic counted with forward hooks, and roofline arithmetic.
* :mod:`.analysis`: what the gallery page derives from all of the above.
"""
