"""Tensor printing matches PyTorch's layout (expected strings were printed by PyTorch 2.13,
default dtype float64; only the module name in ``dtype=`` differs)."""

import numpy as np
import pytest

import symgrad as sg

CASES = {
    "int_mode": lambda: sg.tensor([[4., 1.], [1., 4.]]),
    "fixed": lambda: sg.tensor([0.0193, 0.0828, 0.0758]),
    "sci_small": lambda: sg.tensor([1e-5, 1.0]),
    "sci_big": lambda: sg.tensor([1e10, 1.0]),
    "nonfinite": lambda: sg.tensor([float("nan"), 1., float("inf")]),
    "neg": lambda: sg.tensor([[-1.5, 2.25], [3.125, -4.0]]),
    "scalar": lambda: sg.tensor(3.5),
    "ints": lambda: sg.tensor([1, -20, 300]),
    "bools": lambda: sg.tensor([True, False]),
    "empty": lambda: sg.tensor([]),
    "empty2": lambda: sg.zeros(2, 0),
    "f32": lambda: sg.tensor([1.0, 2.5], dtype=sg.float32),
    "long_row": lambda: sg.arange(30.) / 7,
    "big": lambda: sg.arange(2000.).reshape(40, 50),
    "rg": lambda: sg.tensor([1., 2.], requires_grad=True),
    "3d": lambda: sg.arange(24.).reshape(2, 3, 4) - 11.5,
    "zeros": lambda: sg.zeros(3),
    "negzero_mix": lambda: sg.tensor([-0.0, 1.0]),
    "i32": lambda: sg.tensor([1, 2], dtype=sg.int32),
    "sci_forced_wide": lambda: sg.tensor([123456789.0, 0.5]),
    "one_e8": lambda: sg.tensor([1e8, 1.0]),
}

EXPECTED = {
    'int_mode': 'tensor([[4., 1.],\n        [1., 4.]])',
    'fixed': 'tensor([0.0193, 0.0828, 0.0758])',
    'sci_small': 'tensor([1.0000e-05, 1.0000e+00])',
    'sci_big': 'tensor([1.0000e+10, 1.0000e+00])',
    'nonfinite': 'tensor([nan, 1., inf])',
    'neg': 'tensor([[-1.5000,  2.2500],\n        [ 3.1250, -4.0000]])',
    'scalar': 'tensor(3.5000)',
    'ints': 'tensor([  1, -20, 300])',
    'bools': 'tensor([ True, False])',
    'empty': 'tensor([])',
    'empty2': 'tensor([], size=(2, 0))',
    'f32': 'tensor([1.0000, 2.5000], dtype=symgrad.float32)',
    'long_row': 'tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n        1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,\n        2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143,\n        3.8571, 4.0000, 4.1429])',
    'big': 'tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n         4.9000e+01],\n        [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,\n         9.9000e+01],\n        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,\n         1.4900e+02],\n        ...,\n        [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,\n         1.8990e+03],\n        [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,\n         1.9490e+03],\n        [1.9500e+03, 1.9510e+03, 1.9520e+03,  ..., 1.9970e+03, 1.9980e+03,\n         1.9990e+03]])',
    'rg': 'tensor([1., 2.], requires_grad=True)',
    '3d': 'tensor([[[-11.5000, -10.5000,  -9.5000,  -8.5000],\n         [ -7.5000,  -6.5000,  -5.5000,  -4.5000],\n         [ -3.5000,  -2.5000,  -1.5000,  -0.5000]],\n\n        [[  0.5000,   1.5000,   2.5000,   3.5000],\n         [  4.5000,   5.5000,   6.5000,   7.5000],\n         [  8.5000,   9.5000,  10.5000,  11.5000]]])',
    'zeros': 'tensor([0., 0., 0.])',
    'negzero_mix': 'tensor([-0., 1.])',
    'i32': 'tensor([1, 2], dtype=symgrad.int32)',
    'sci_forced_wide': 'tensor([1.2346e+08, 5.0000e-01])',
    'one_e8': 'tensor([1.0000e+08, 1.0000e+00])',
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_matches_pytorch(name):
    assert repr(CASES[name]()) == EXPECTED[name]


def test_grad_fn_suffix_and_str():
    inp = sg.eye(5, requires_grad=True)
    out = (inp + 1).pow(2)
    assert repr(out).endswith("grad_fn=<PowBackward0>)")
    assert str(out) == repr(out)
    assert repr(out).splitlines()[0] == "tensor([[4., 1., 1., 1., 1.],"


def test_print_options_round_trip():
    old = sg.get_printoptions()
    try:
        sg.set_printoptions(precision=2)
        assert repr(sg.tensor([1.12345])) == "tensor([1.12])"
        sg.set_printoptions(threshold=5)
        assert repr(sg.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    finally:
        sg.set_printoptions(**old)
    assert repr(sg.tensor([1.12345])) == "tensor([1.1235])"


def test_symbolic_tensor_prints_expressions():
    w = sg.symbolic.symbols("w", (2,))
    assert repr(w * 2) == "tensor([2*w[0], 2*w[1]], dtype=symbolic)"


def test_format_of_scalar_tensor():
    assert f"{sg.tensor(0.25):.2f}" == "0.25"
    assert np.isclose(float(sg.tensor([2.5])), 2.5)
