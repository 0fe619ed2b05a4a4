"""demos.quant.collect: forward hooks stream a torch model's activations into histograms."""

import numpy as np
import pytest
import torch

from demos.quant import HistogramCollector, QuantInputError, histogram_of
from demos.quant.collect import collect_activations


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 6, 3)
        self.act = torch.nn.ReLU()
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(6, 5)
        self.unused = torch.nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(self.pool(self.act(self.conv(x))).flatten(1))


@pytest.fixture
def net():
    torch.manual_seed(0)
    return Net().train()


def _data(n=3):
    g = torch.Generator().manual_seed(1)
    return [torch.randn(2, 3, 8, 8, generator=g) for _ in range(n)]


def test_inputs_of_selected_modules_equal_a_one_shot_histogram(net):
    data = _data()
    stats = collect_activations(net, [(x, torch.zeros(2)) for x in data], modules=["conv", "act"])
    assert set(stats) == {"conv", "act"}
    # The conv's input is the data itself: identical to the one-shot histogram of all batches.
    ref = histogram_of(torch.cat(data))
    np.testing.assert_array_equal(stats["conv"].histogram().counts, ref.counts)
    assert stats["conv"].amax == float(torch.cat(data).abs().max())
    with torch.no_grad():
        conv_out = torch.cat([net.conv(x) for x in data])
    assert stats["act"].amax == pytest.approx(float(conv_out.abs().max()))
    assert all(c.num_batches == 3 for c in stats.values())


def test_default_selection_is_conv_and_linear(net):
    # By type, the never-called "unused" Linear is selected too, and reported rather than left empty.
    with pytest.raises(QuantInputError, match="never ran in forward \\(first: 'unused'\\)"):
        collect_activations(net, _data())
    del net.unused
    stats = collect_activations(net, _data())
    assert list(stats) == ["conv", "fc"]


def test_type_filter_output_and_restored_state(net):
    relu_out = collect_activations(net, _data(), module_types=torch.nn.ReLU, where="output", max_batches=2, num_bins=256)
    assert set(relu_out) == {"act"}
    c = relu_out["act"]
    assert isinstance(c, HistogramCollector) and c.num_batches == 2 and c.num_bins == 256
    assert c.num_zeros > 0  # ReLU outputs
    assert net.training  # restored
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())  # hooks removed


def test_numpy_batches_are_accepted(net):
    stats = collect_activations(net, [x.numpy() for x in _data()], modules=["fc"])
    assert stats["fc"].num_values == 3 * 2 * 6


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"modules": ["conv", "nope"]}, "module name\\(s\\) \\['nope'\\] not found"),
        ({"modules": ["unused"]}, "never ran in forward \\(first: 'unused'\\)"),
        ({"module_types": (torch.nn.Conv3d,)}, "no module of the model matches"),
        ({"where": "inside"}, "where must be 'input' or 'output'"),
        ({"batches": []}, "batches is empty"),
        ({"batches": ["not a tensor"]}, "each batch must be a tensor"),
        ({"batches": [torch.full((1, 3, 8, 8), float("nan"))], "modules": ["conv"]}, "input of module 'conv': batch has"),
    ],
)
def test_bad_inputs(net, kwargs, message):
    kwargs = {"batches": _data(1), **kwargs}
    with pytest.raises(QuantInputError, match=message) as info:
        collect_activations(net, **kwargs)
    assert "\n" not in str(info.value)
    assert net.training and all(not m._forward_pre_hooks for m in net.modules())
