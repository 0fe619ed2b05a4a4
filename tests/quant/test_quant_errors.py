"""demos.quant's input errors are user errors: the CLIs print one ``error:`` line and exit 2."""

from types import SimpleNamespace

import numpy as np
import pytest

from demos.errors import UserError
from demos.quant import QuantInputError, calibrate, format_info, histogram_of, quantize


def test_quant_input_error_is_a_user_error_and_a_value_error():
    with pytest.raises(QuantInputError) as info:
        format_info("fp12")
    assert isinstance(info.value, UserError) and isinstance(info.value, ValueError)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda: quantize(np.array([1.0, np.nan], dtype=np.float32), 0.1),
        lambda: calibrate(histogram_of(np.ones(10)), "kl"),
    ],
)
def test_cli_prints_a_quant_error_as_one_line(monkeypatch, capsys, call):
    """A stage that hits a demos.quant error ends like every user mistake: one line, exit 2."""
    from demos.resnet50 import __main__ as cli

    stage = SimpleNamespace(add_arguments=lambda sp: None, run=lambda args: call())
    monkeypatch.setattr(cli, "_module", lambda name: stage)
    assert cli.main(["report"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
