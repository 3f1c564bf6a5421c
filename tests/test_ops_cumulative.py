"""symgrad.ops.cumulative: cummax, cummin (indices and gradients at ties and nan as
PyTorch) and logcumsumexp (its record, its log-space rule at extreme ranges)."""

import math

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.ops import OPS
from torch_parity import compare

T = sg.tensor
NAN = float("nan")
TIES = np.array([[1.0, 3.0, 3.0, 2.0, 5.0], [2.0, 2.0, NAN, 1.0, 4.0], [4.0, 1.0, 1.0, 0.5, 0.5]])
WIDE = np.array([[0.0, -1000.0, 1000.0, 2.0, -3.0], [-800.0, 1.0, 700.0, 3.0, 710.0]])


def _r(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


CASES = {
    "cummax": (lambda m, x: m.cummax(x, 1), _r(3, 5)),
    "cummax_dim0": (lambda m, x: x.cummax(0), _r(4, 3)),
    "cummax_ties_nan": (lambda m, x: m.cummax(x, 1), TIES),
    "cummin": (lambda m, x: m.cummin(x, -1), _r(3, 5)),
    "cummin_ties_nan": (lambda m, x: x.cummin(1), TIES),
    "cummax_scalar": (lambda m, x: m.cummax(x, 0), np.array(2.5)),
    "logcumsumexp": (lambda m, x: m.logcumsumexp(x, 1), _r(3, 5)),
    "logcumsumexp_dim0": (lambda m, x: x.logcumsumexp(0), _r(4, 3)),
    "logcumsumexp_wide": (lambda m, x: m.logcumsumexp(x, 1), WIDE),
}




@pytest.mark.parametrize("key", sorted(CASES))
def test_matches_pytorch(key, torch):
    f, data = CASES[key]
    # (a 0-d input is cloned: symgrad records CloneBackward0 there)
    compare(torch, f, [data], rtol=1e-12, names=key != "cummax_scalar")


def test_cumulative_extremes_without_pytorch():
    x = T(TIES, requires_grad=True)
    v, i = sg.cummax(x, 1)
    assert i.tolist() == [[0, 1, 2, 2, 4], [0, 1, 2, 2, 2], [0, 0, 0, 0, 0]]
    assert math.isnan(v.tolist()[1][4]) and v.grad_fn.name() == "CummaxBackward0"
    v.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0, 2.0, 0.0, 1.0], [1.0, 1.0, 3.0, 0.0, 0.0],
                               [5.0, 0.0, 0.0, 0.0, 0.0]]
    assert sg.cummin(T([[2.0, 1.0, 1.0, 3.0]]), 1).indices.tolist() == [[0, 1, 2, 2]]
    assert sg.cummax(T([1, 3, 2]), 0).values.tolist() == [1, 3, 3]


def test_logcumsumexp_gradient_is_finite_over_wide_ranges():
    # terms exp(x_k - out_i) with out spanning 1500: the log-space rule keeps them apart
    x = T(WIDE, requires_grad=True)
    g = T([[1.0, -2.0, 3.0, 0.5, 1.0], [1.0, 1.0, -1.0, 1.0, 1.0]])
    sg.logcumsumexp(x, 1).backward(g)
    assert np.isfinite(x.grad.numpy()).all()
    # (exponents near 1000 keep 13 digits of the log-space terms, as PyTorch's)
    np.testing.assert_allclose(x.grad.tolist()[0][:3], [-1.0, 0.0, 4.5], rtol=1e-12)
    # the rule is exact; where the positive and negative parts of g nearly cancel the
    # difference keeps float64's absolute error only: the verifier says so, not "mismatch"
    rep = verify.check(lambda a: (sg.logcumsumexp(a, 1) * g).sum(), T(WIDE))
    assert [r.verdict for r in rep.rows] in (["agree", "agree"],
                                             ["agree", "numerically inaccurate"]), rep.table()
    assert rep.rows[1].comparison.max_abs < 1e-12


def test_verifier_and_second_derivatives():
    for f in (lambda a: sg.logcumsumexp(a, 0).sin().sum(),
              lambda a: (sg.cummax(a, 1).values ** 2).sum()):
        rep = verify.check(f, T(_r(3, 4)), order=2)
        assert rep.ok, rep.table()


def test_records_and_errors():
    assert OPS["logcumsumexp"].mirror is not None and OPS["logcumsumexp"].differentiable
    with pytest.raises(NotImplementedError, match="logcumsumexp_out_cpu"):
        sg.logcumsumexp(T([1, 2]), 0)
    with pytest.raises(IndexError):
        sg.cummax(T([1.0, 2.0]), 1)
    assert sg.logcumsumexp(T(1.5), 0).item() == 1.5
