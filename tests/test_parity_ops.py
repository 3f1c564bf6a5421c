"""Parity of ops with PyTorch found by a differential sweep: rounding division, add/sub's
alpha, double backward through piecewise-linear activations, node names of composed ops.

Each test states the expected behaviour as known values, so it runs without PyTorch; the
tests named ``..._as_pytorch`` also run the same program on PyTorch when it is installed.
"""

import pytest

import symgrad as sg
from symgrad.verify.rules import check_rules


def _torch():
    return pytest.importorskip("torch")


def _summary(t) -> tuple:
    """What a PyTorch user sees of a result: values (repr, so nan and -0.0 compare), dtype
    name, node name, requires_grad."""
    fn = t.grad_fn
    name = None if fn is None else (fn.name() if callable(getattr(fn, "name", None))
                                    else type(fn).__name__)
    return repr(t.tolist()), str(t.dtype).split(".")[-1], name, t.requires_grad


# ================================================================ div(rounding_mode=...)
@pytest.mark.parametrize("mode,expected", [("trunc", [3, -3, 2, -2]), ("floor", [3, -4, 2, -3])])
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8"])
def test_rounding_division_of_integers_keeps_the_integer_dtype(mode, expected, dtype):
    a = sg.tensor([7, -7, 5, -5], dtype=getattr(sg, dtype))
    out = sg.div(a, 2, rounding_mode=mode)
    assert out.dtype == getattr(sg, dtype) and out.tolist() == expected
    out = sg.div(a, sg.tensor([2, 2, 2, 2], dtype=getattr(sg, dtype)), rounding_mode=mode)
    assert out.dtype == getattr(sg, dtype) and out.tolist() == expected


def test_rounding_division_dtypes_follow_promotion():
    b = sg.tensor([True, False])
    assert _summary(sg.div(b, 2, rounding_mode="trunc"))[:2] == ("[0, 0]", "int64")
    assert _summary(sg.div(7, sg.tensor([2, -2, 3]), rounding_mode="trunc"))[:2] == (
        "[3, -3, 2]", "int64")
    assert _summary(sg.div(sg.tensor([7, -7]), 2.5, rounding_mode="trunc"))[:2] == (
        "[2.0, -2.0]", "float64")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        sg.div(sg.tensor([7, 1]), sg.tensor([2, 0]), rounding_mode="trunc")
    with pytest.raises(NotImplementedError, match="div_floor_cpu"):
        sg.div(b, b, rounding_mode="floor")


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_rounding_division_is_recorded_with_zero_gradients(mode):
    x = sg.tensor([7.0, -7.0, 0.5], requires_grad=True)
    y = sg.tensor([2.0, 3.0, -4.0], requires_grad=True)
    out = sg.div(x, y, rounding_mode=mode)
    assert out.grad_fn.name() == "DivBackward2" and out.requires_grad
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0] and y.grad.tolist() == [0.0, 0.0, 0.0]
    (res,) = check_rules(["div_" + mode], points=4)
    assert res.ok, res.detail


def test_rounding_division_as_pytorch():
    torch = _torch()
    progs = [
        lambda m: m.div(m.tensor([7, -7, 5, -5]), m.tensor([2, 2, -3, 3]), rounding_mode="trunc"),
        lambda m: m.div(m.tensor([7, -7, 5, -5]), m.tensor([2, 2, -3, 3]), rounding_mode="floor"),
        lambda m: m.div(m.tensor([7, -7], dtype=m.uint8), 3, rounding_mode="trunc"),
        lambda m: m.div(m.tensor([7.0, -7.0, 0.0], dtype=m.float64), 0.0, rounding_mode="trunc"),
        lambda m: m.div(3.0, m.tensor([7.0, -7.0], dtype=m.float64), rounding_mode="trunc"),
        lambda m: m.div(m.tensor([7.0, -7.0], dtype=m.float32, requires_grad=True), 2,
                        rounding_mode="floor"),
    ]
    for prog in progs:
        assert _summary(prog(sg)) == _summary(prog(torch))
