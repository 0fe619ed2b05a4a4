"""The timing harness, run against a fake clock so its arithmetic is checked exactly."""

import pytest

from demos.gpu_speed import microbench


class FakeClock(microbench.WallClock):
    """Time advances only when the measured function runs."""

    def __init__(self):
        self.now = 0.0
        super().__init__(clock=lambda: self.now)


def test_measure_reports_the_per_call_time():
    clock = FakeClock()
    costs = []

    def fn(i):
        cost = 1e-3 if i % 2 else 3e-3  # alternating costs: per-sample averages are 2 ms when inner is even
        costs.append(cost)
        clock.now += cost

    timing = microbench.measure(fn, clock, warmup_s=0.0, budget_s=0.05, min_sample_s=0.0, min_samples=7,
                                max_samples=9)
    assert 7 <= timing.samples <= 9
    assert timing.calls_per_sample >= 1
    assert timing.warmup_calls == 2
    assert len(costs) == timing.warmup_calls + timing.samples * timing.calls_per_sample
    assert timing.min_s <= timing.median_s <= 3e-3
    assert timing.min_s >= 1e-3


def test_measure_batches_short_calls_into_one_sample():
    clock = FakeClock()

    def fn(i):
        clock.now += 1e-4

    timing = microbench.measure(fn, clock, warmup_s=0.0, min_sample_s=10.0, budget_s=1.0, min_samples=3,
                                max_samples=3)
    # Real wall time of the warm-up is tiny, so many calls go into each sample; per call it is still 0.1 ms.
    assert timing.calls_per_sample > 1
    assert timing.median_s == pytest.approx(1e-4)


@pytest.mark.parametrize("case, n, sets", [
    ("fp16", 4096, 3),     # 64 MiB of operands vs 50 MiB of L2: rotate so the next call misses
    ("fp8_e4m3", 4096, 5),
    ("int8", 2048, 8),     # capped
    ("fp16", 16384, 1),    # far larger than L2
])
def test_rotation_sets_defeat_a_50_mib_l2(case, n, sets):
    l2 = 50 << 20
    got = microbench.rotation_sets(case, n, l2)
    assert got == sets
    if got > 1 and got < 8:
        assert got * microbench.operand_bytes(case, n) > 2 * l2


def test_no_rotation_without_a_known_cache():
    assert microbench.rotation_sets("int8", 256, None) == 1


def test_memory_check_skips_cases_that_do_not_fit():
    import torch

    rec = microbench.run_matmul_case(torch, "fp32", 4096, torch.device("cpu"), microbench.WallClock(),
                                     None, free_bytes=1 << 20, seed=0)
    assert "skipped" in rec and "GiB" in rec["skipped"] and "rate" not in rec


def test_an_unsupported_case_is_recorded_not_raised(monkeypatch):
    import torch

    def refuse(*args, **kwargs):
        raise RuntimeError("CUBLAS_STATUS_NOT_SUPPORTED when calling cublasLtMatmul\nmore detail")

    monkeypatch.setattr(torch, "_int_mm", refuse)
    rec = microbench.run_matmul_case(torch, "int8", 64, torch.device("cpu"), microbench.WallClock(), None,
                                     None, seed=0, warmup_s=0.0, budget_s=0.01)
    assert rec["error"] == "RuntimeError: CUBLAS_STATUS_NOT_SUPPORTED when calling cublasLtMatmul"


def test_int8_falls_back_to_a_row_major_b(monkeypatch):
    import torch

    real = torch._int_mm

    def only_row_major(a, b):
        if not b.is_contiguous():
            raise RuntimeError("CUBLAS_STATUS_NOT_SUPPORTED")
        return real(a, b)

    monkeypatch.setattr(torch, "_int_mm", only_row_major)
    rec = microbench.run_matmul_case(torch, "int8", 64, torch.device("cpu"), microbench.WallClock(), None,
                                     None, seed=0, warmup_s=0.0, budget_s=0.01)
    assert "error" not in rec
    assert rec["b_layout"] == "row-major" and rec["check"]["passed"] and rec["check"]["rel_err"] == 0.0
