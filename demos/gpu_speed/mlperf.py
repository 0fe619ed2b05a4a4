"""Published MLPerf Inference results for ResNet50 that the page compares our PyTorch numbers with.

These are NVIDIA's submissions to MLCommons (closed division, datacenter, Offline scenario), read from the
result logs in MLCommons' public result repositories. An 8-GPU system's samples per second are divided by 8
to give a per-GPU figure. NVIDIA's ResNet50 engines run in INT8 with TensorRT and hand-fused plugins (the
whole first residual stage in one kernel, for example), which is why they are far ahead of framework code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MlperfResult:
    gpu: str  # the datasheet key (demos.gpu_speed.datasheet)
    round: str
    system: str
    gpus: int
    samples_per_second: float  # whole system, Offline scenario
    software: str
    precision: str
    source: str  # the result log
    system_description: str  # the system JSON with the software versions

    @property
    def per_gpu(self) -> float:
        return self.samples_per_second / self.gpus


_REPO = "https://github.com/mlcommons/inference_results_{round}/blob/main/closed/NVIDIA"

RESNET50_OFFLINE = (
    MlperfResult(
        gpu="H100 SXM", round="v4.0", system="NVIDIA DGX H100 (8x H100-SXM-80GB, TensorRT)", gpus=8,
        samples_per_second=703770, software="TensorRT 9.3.0, CUDA 12.2", precision="INT8",
        source=_REPO.format(round="v4.0")
        + "/results/DGX-H100_H100-SXM-80GBx8_TRT/resnet50/Offline/performance/run_1/mlperf_log_summary.txt",
        system_description=_REPO.format(round="v4.0") + "/systems/DGX-H100_H100-SXM-80GBx8_TRT.json",
    ),
    MlperfResult(
        gpu="H200 SXM", round="v4.1", system="NVIDIA H200 (8x H200-SXM-141GB, TensorRT)", gpus=8,
        samples_per_second=756960, software="TensorRT 10.2.0, CUDA 12.4", precision="INT8",
        source=_REPO.format(round="v4.1")
        + "/results/H200-SXM-141GBx8_TRT/resnet50/Offline/performance/run_1/mlperf_log_summary.txt",
        system_description=_REPO.format(round="v4.1") + "/systems/H200-SXM-141GBx8_TRT.json",
    ),
)


def for_gpu(gpu: str) -> MlperfResult | None:
    return next((r for r in RESNET50_OFFLINE if r.gpu == gpu), None)
