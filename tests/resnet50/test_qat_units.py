"""demos.resnet50.qat: BatchNorm folding, per-tensor depthwise configuration, the fine-tuning recipe,
residual-add Q/DQ placement in the exported ONNX, and the study command's input checks."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from demos import data, models
from demos.errors import UserError
from demos.resnet50 import qat


@pytest.fixture(scope="module")
def effnet():
    model, spec = models.build("efficientnet_lite0", "pretrained")
    if (data.SAMPLES / "labels.csv").is_file():
        items = data.split(data.discover(data.SAMPLES), "calibration", 4)
        x, y = data.load_array(items, spec.preprocess)
    else:  # still real weights; inputs in the model's normalized range
        x = np.random.default_rng(0).uniform(-1, 1, (4, 3, 224, 224)).astype(np.float32)
        y = np.zeros(4, np.int64)
    return model, x, y


def test_fold_batchnorm_keeps_outputs_and_activations(effnet):
    model, x, _ = effnet
    folded = copy.deepcopy(model)
    n = qat.fold_batchnorm(folded)
    assert n == 49  # every convolution of EfficientNet-Lite0 is followed by a BatchNorm
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert sum(isinstance(m, torch.nn.ReLU6) for m in folded.modules()) == \
        sum(isinstance(m, torch.nn.ReLU6) for m in model.modules())  # timm's BatchNormAct2d activations kept
    ref, got = qat.logits(model, x), qat.logits(folded, x)
    assert np.linalg.norm(got - ref) / np.linalg.norm(ref) < 1e-4
    assert (got.argmax(1) == ref.argmax(1)).all()


def test_per_tensor_depthwise_config(effnet):
    model, x, _ = effnet
    m = copy.deepcopy(model)
    depthwise = qat.depthwise_convs(m)
    assert len(depthwise) == 16 and all(n.endswith("conv_dw") for n in depthwise)
    q = qat.calibrate(m, x[:2], "per-tensor-depthwise")
    mods = dict(q.named_modules())
    for name in depthwise:
        assert mods[name].weight_quantizer.amax.numel() == 1
    pointwise = mods["blocks.1.0.conv_pw"]
    assert pointwise.weight_quantizer.amax.numel() == pointwise.out_channels
    with pytest.raises(UserError, match="weight-scales"):
        qat.quant_config("per-row")
    with pytest.raises(UserError, match="no depthwise"):
        qat.quant_config("per-tensor-depthwise", [])


class _Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).mean((2, 3)))


def test_finetune_recipe_freezes_batchnorm_and_anneals():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 3, 8, 8)).astype(np.float32)
    y = rng.integers(0, 5, 24)
    model = _Small().eval()
    model.bn.running_mean.normal_()  # non-trivial statistics, as after real training
    teacher = copy.deepcopy(model)
    q = qat.calibrate(model, x[:8])
    stats = q.bn.running_mean.clone(), q.bn.running_var.clone()
    w0 = q.conv.weight.detach().clone()
    hist = qat.finetune(q, teacher, x, y, epochs=2, batch=8, lr=1e-3, optimizer="adam", progress=False)
    assert hist["steps"] == 6 and len(hist["losses"]) == 6 and hist["batchnorm_frozen"] == 1
    assert torch.equal(q.bn.running_mean, stats[0]) and torch.equal(q.bn.running_var, stats[1])
    assert not torch.equal(q.conv.weight, w0)  # the weights did train
    lrs = hist["lrs"]
    assert lrs[0] == pytest.approx(1e-3) and all(a > b for a, b in zip(lrs, lrs[1:]))
    # cosine from lr to 1 % of lr (pytorch-quantization's guide), here at step 5 of 6
    floor = 1e-3 * qat.FINAL_LR_FRACTION
    assert lrs[-1] == pytest.approx(floor + (1e-3 - floor) * (1 + math.cos(math.pi * 5 / 6)) / 2)
    assert hist["lr_schedule"] == "cosine to 1% of lr" and hist["loss"] == "KL(FP32 teacher || student)"
    assert len(hist["epoch_losses"]) == 2
    assert hist["epoch_losses"][1] == pytest.approx(np.mean(hist["losses"][3:]))
    assert all(np.isfinite(hist["losses"]))
    with pytest.raises(UserError, match="optimizer"):
        qat.finetune(q, teacher, x, y, optimizer="lbfgs", progress=False)


def test_distillation_loss_is_kl_of_the_teacher_from_the_student():
    student = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    teacher = torch.tensor([[0.0, 1.0, 0.0], [1.0, -2.0, 2.0]])
    p, q = torch.softmax(teacher, 1), torch.softmax(student, 1)
    kl_teacher_student = (p * (p.log() - q.log())).sum(1).mean()
    kl_student_teacher = (q * (q.log() - p.log())).sum(1).mean()
    got = qat.distillation_loss(student, teacher)
    assert got == pytest.approx(kl_teacher_student.item(), rel=1e-6)
    assert abs(got.item() - kl_student_teacher.item()) > 1e-3  # the two directions differ here


def test_export_check_measures_the_rounding_floor(tmp_path):
    """ORT vs PyTorch fake quantization, next to PyTorch float64 vs float32 of the same model."""
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((16, 3, 8, 8)).astype(np.float32)
    q = qat.calibrate(_Small().eval(), x)
    path = tmp_path / "small.onnx"
    from demos import onnx_tools

    onnx_tools.save(qat.export_qdq(q, x[:1]), path)
    check = qat._check_export(q, path, x)
    assert check["images"] == 16
    assert check["agreement"] >= 0.9 and check["rel_l2_vs_torch_fakequant"] < 0.05
    floor = check["torch_float64_vs_float32"]
    assert 0 <= floor["rel_l2"] < 0.05 and floor["agreement"] >= 0.9
    assert next(q.parameters()).dtype == torch.float32  # the float64 copy left the model alone


@pytest.mark.slow
def test_residual_quantizers_put_qdq_on_the_identity_input():
    from torchvision.models.resnet import Bottleneck, ResNet

    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    rows = {}
    for residual in (False, True):
        torch.manual_seed(0)
        model = ResNet(Bottleneck, [1, 1, 1, 1], num_classes=10).eval()  # ResNet50's block, 4 of them
        q = qat.calibrate(model, x, residual=residual)
        rows[residual] = qat.add_inputs(qat.export_qdq(q, x[:1]))
    assert len(rows[False]) == len(rows[True]) == 4
    assert not any(i["quantized"] for r in rows[False] for i in r["inputs"])  # ModelOpt's default
    for r in rows[True]:
        kinds = sorted((i["quantized"], i["from"]) for i in r["inputs"])
        # the block's own branch stays float (fuses into its convolution); the identity comes through Q/DQ
        assert kinds[0] == (False, "BatchNormalization") and kinds[1][0] is True
    with pytest.raises(UserError, match="bottleneck"):
        qat.calibrate(_Small().eval(), x[:1, :, :8, :8], residual=True)


def test_study_command_rejects_bad_arguments(tmp_path, capsys):
    from demos.errors import run_cli

    assert run_cli(qat._study_main, ["--out", str(tmp_path / "r.txt")]) != 0
    assert "--out must name a .json file" in capsys.readouterr().err
    assert run_cli(qat._study_main, ["--out", str(tmp_path / "r.json"), "--data", str(tmp_path / "none")]) != 0
    assert "not found" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


_QAT_PAGE = qat.__file__.replace("\\", "/").rsplit("/demos/", 1)[0] + "/gallery/qat/plot_qat.py"


def _comment_text(path: str) -> str:
    """The narrative of a sphinx-gallery script (its comment lines) and the docstrings of a module, joined."""
    import re

    src = open(path, encoding="utf-8").read()
    return " ".join(re.sub(r"^\s*#\s?", "", line) for line in src.splitlines())


@pytest.mark.parametrize("path", [_QAT_PAGE, qat.__file__])
def test_kl_direction_is_written_one_way(path):
    """Review A8: the loss is KL(teacher || student) = sum p_T log(p_T / p_S), and no sentence calls it "the
    divergence of X from Y" (an idiom read both ways; the page and the docstring used it in opposite senses)."""
    import re

    text = _comment_text(path)
    assert not re.search(r"divergence \*?of\*? (the|it)\b", text)
    assert "KL(teacher || student) = sum p_T * log(p_T / p_S)" in text or (
        r"\mathrm{KL}(T \,\|\, S) = \sum_i p_T(i) \log\big(p_T(i) / p_S(i)\big)" in text)


def test_qat_page_names_only_learning_rates_it_ran():
    """Review A12: the page gave advice and an unrecorded run at 1e-4; every learning rate its text names must
    be the page's own or the recorded study's."""
    import json
    import re
    from pathlib import Path

    from demos.resnet50 import RESULTS

    text = _comment_text(_QAT_PAGE)
    named = {float(v) for v in re.findall(r"\b\d+e-\d+\b", text)}
    ran = {json.loads(p.read_text(encoding="utf-8"))["finetune"]["lr"] for p in Path(RESULTS).glob("qat_*.json")}
    src = Path(_QAT_PAGE).read_text(encoding="utf-8")
    ran |= {float(v) for v in re.findall(r'"lr": (\d+e-\d+)', src)}
    assert named and named <= ran, f"learning rates named but not run: {sorted(named - ran)}"
