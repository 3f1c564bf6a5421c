"""``out=`` on the torch.* functions programs call with it, as PyTorch: the result written
into the given tensor (resized, cast), refused where a gradient would be recorded."""

import warnings

import numpy as np
import pytest

import symgrad as sg


def _outcome(m, call):
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = call(m)
        return (out.tolist(), str(out.dtype).split(".")[-1],
                [str(x.message).split(".")[0] for x in w])
    except (RuntimeError, TypeError) as e:
        return type(e).__name__


CALLS = {
    "matmul": lambda m: m.matmul(m.ones(2, 3), m.ones(3, 2), out=m.zeros(2, 2)),
    "mul_resizes": lambda m: m.mul(m.ones(2, 2) * 3, 2, out=m.zeros(3)),
    "add_into_empty": lambda m: m.add(m.ones(2), 1, out=m.empty(0)),
    "cat": lambda m: m.cat([m.ones(2), m.zeros(2)], out=m.zeros(4)),
    "sum_dim": lambda m: m.sum(m.ones(2, 3), 1, out=m.zeros(2)),
    "exp_into_float32": lambda m: m.exp(m.zeros(2, dtype=m.float64),
                                        out=m.zeros(2, dtype=m.float32)),
    "int_into_float": lambda m: m.add(m.ones(2, dtype=m.int64), 1, out=m.zeros(2)),
    "float_into_int": lambda m: m.add(m.ones(2), 1.5, out=m.zeros(2, dtype=m.int64)),
    "requires_grad": lambda m: m.mul(m.ones(2, requires_grad=True), 2, out=m.zeros(2)),
    "not_a_tensor": lambda m: m.add(m.ones(2), 1, out=[0.0, 0.0]),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_out_as_pytorch(torch, name):
    assert _outcome(sg, CALLS[name]) == _outcome(torch, CALLS[name])


def test_out_is_the_same_tensor_and_allowed_under_no_grad():
    y = sg.zeros(2)
    x = sg.ones(2, requires_grad=True)
    with sg.no_grad():
        r = sg.mul(x, 3, out=y)
    assert r is y and y.tolist() == [3.0, 3.0] and y._version == 1
    np.testing.assert_array_equal(sg.add(x, 1).detach().numpy(), [2, 2])   # no out: as before
