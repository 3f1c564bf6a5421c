"""Verifier corner cases: constant edges in localize, cumsum's accurate rule, real-only mpmath."""

import mpmath
import numpy as np
import pytest

import symgrad as sg
from symgrad.autograd.grad_mode import _state
from symgrad.autograd.gradcheck import GradcheckError
from symgrad.ops import OPS
from symgrad.ops.namespaces import MPMATH, to_mpmath
from symgrad.verify import AGREE, MISMATCH
from symgrad.verify.highprec import HighPrecision
from symgrad.verify.localize import localize
from symgrad.verify.rules import check_rules


def _recorded_gradient(loss, x):
    """The gradient of ``loss`` as a graph with its constants recorded (as the verifier
    records them): the cotangent that sum's backward expands is a constant edge."""
    prev = _state.record_all
    _state.record_all = True
    try:
        (g,) = sg.autograd.grad([loss], [x], create_graph=True)
    finally:
        _state.record_all = prev
    return g


def _const_edges(root):
    from symgrad.autograd.engine import topological_order

    return [n for n in topological_order([root])[0] if getattr(n, "_const", None)]


# ================================================================ localize and constant edges
def test_localize_skips_the_constant_edges_of_a_recorded_backward():
    x = sg.tensor([0.5, -1.25, 2.0], requires_grad=True)
    g = _recorded_gradient((x * x).sum(), x)
    assert _const_edges(g.grad_fn)            # the case that crashed: MulBackward0 with one
    assert localize(HighPrecision(g.grad_fn)) == []


def test_localize_skips_an_argument_computed_from_constants():
    x = sg.tensor([0.5, -1.25], requires_grad=True)
    prev = _state.record_all
    _state.record_all = True
    try:
        out = x * sg.exp(sg.tensor([0.25, 1.5]))    # exp recorded, though nothing needs grad
    finally:
        _state.record_all = prev
    assert _const_edges(out.grad_fn)
    assert localize(HighPrecision(out.grad_fn)) == []


def test_wrong_rule_is_named_in_a_graph_with_constant_edges(mutate):
    mutate(OPS["tanh"], vjp=(lambda xp, g, ans, x: g * (1 - ans * ans) * (1 + 1e-10),))

    def fn(x):
        return sg.tanh(_recorded_gradient((x * x).sum(), x)).sum()

    r = sg.verify.check(fn, sg.tensor([0.5, -1.25, 2.0]))
    assert r.row("x").verdict == MISMATCH
    assert [(f.node, f.kind, f.argument) for f in r.findings] == [("TanhBackward0", "rule", "x")]


# ================================================================ cumsum
_G = np.array([1e20, 1.0, 1.0])


def test_cumsum_rule_accumulates_the_tail_sums_exactly():
    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    sg.cumsum(x, 0).backward(sg.tensor(_G))
    assert x.grad.tolist() == [1e20, 2.0, 1.0]     # total - running + g gave 1.0 in the middle
    m = sg.zeros(2, 3, requires_grad=True)
    sg.cumsum(m, 1).backward(sg.tensor(np.stack([_G, _G[::-1]])))
    assert m.grad.tolist() == [[1e20, 2.0, 1.0], [1e20 + 2, 1e20 + 1, 1e20]]


def test_cumsum_rule_matches_torch_on_a_cotangent_spanning_magnitudes():
    torch = pytest.importorskip("torch")
    for dim, shape in [(0, (3,)), (1, (2, 3)), (0, (3, 2))]:
        g = np.broadcast_to(_G.reshape([3 if i == dim else 1 for i in range(len(shape))]),
                            shape).copy()
        x = sg.zeros(*shape, requires_grad=True)
        sg.cumsum(x, dim).backward(sg.tensor(g))
        tx = torch.zeros(*shape, dtype=torch.float64, requires_grad=True)
        torch.cumsum(tx, dim).backward(torch.tensor(g))
        assert x.grad.tolist() == tx.grad.tolist()


def test_cumsum_vjp_check_agrees_entry_by_entry():
    r = sg.verify.check(lambda a: sg.cumsum(a, 0), sg.tensor([1.0, 2.0, 3.0]), mode="vjp",
                        cotangent=_G)
    assert r.ok, r.table()
    row = r.row("a")
    assert row.verdict == AGREE
    assert row.comparison.max_rel < 1e-15, r.table()   # the old rule: 0.5 (1 for 2)


def test_cumsum_rule_is_proved_and_differentiates_again():
    (res,) = check_rules(["cumsum"], points=3)
    assert res.ok, res.detail
    r = sg.verify.check(lambda a: (sg.cumsum(a, 1) ** 3).sum(), sg.tensor([[0.5, -1.0, 2.0]]),
                        order=2)
    assert r.ok, r.table()


def test_cumsum_of_a_0d_tensor_records_cumsum_backward():
    for dim in (0, -1):
        s = sg.tensor(2.5, requires_grad=True)
        y = sg.cumsum(s, dim)
        assert y.shape == () and y.item() == 2.5
        assert y.grad_fn.name() == "CumsumBackward0"
        (y * 3.0).backward()
        assert s.grad.shape == () and s.grad.item() == 3.0
    with pytest.raises(IndexError):
        sg.cumsum(sg.tensor(2.5), 1)
    assert sg.verify.check(lambda a: sg.cumsum(a, 0) * 2.0, sg.tensor(1.5)).ok


def test_cumsum_of_a_0d_tensor_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.cumsum(torch.tensor(2.5, dtype=torch.float64, requires_grad=True), 0)
    s = sg.cumsum(sg.tensor(2.5, requires_grad=True), 0)
    assert s.grad_fn.name() == t.grad_fn.name()
    assert tuple(s.shape) == tuple(t.shape)
    assert sg.cumsum(sg.tensor(3), 0).dtype == sg.int64 and torch.cumsum(
        torch.tensor(3), 0).dtype == torch.int64


# ================================================================ mpmath namespace: real only
@pytest.mark.parametrize("name", ["arcsin", "arccos"])
def test_mpmath_inverse_trig_is_nan_outside_its_domain(name):
    xs = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, np.inf, -np.inf, np.nan])
    with mpmath.workdps(30):
        got = getattr(MPMATH, name)(to_mpmath(xs))
    assert all(isinstance(v, mpmath.mpf) for v in got)   # never mpc
    with np.errstate(invalid="ignore"):
        ref = getattr(np, name)(xs)
    assert np.array_equal(np.isnan(ref), [mpmath.isnan(v) for v in got])
    finite = ~np.isnan(ref)
    assert np.allclose([float(v) for v in got[finite]], ref[finite], rtol=1e-15, atol=0)


def test_inputs_read_from_a_closure_are_checked_and_restored(mutate):
    # as with PyTorch's gradcheck, fn may ignore its arguments: the inputs themselves are
    # differentiated (in place, restored after), so a wrong rule cannot hide behind copies
    x = sg.tensor([[0.5, -1.0], [2.0, 0.25]])
    w = sg.tensor([[1.0, 0.5], [-0.5, 2.0]], requires_grad=True) * 1   # a non-leaf too
    w.retain_grad()
    before = (w.grad_fn, w._version, w.tolist())
    report = sg.verify.check(lambda *_: (x @ w).tanh().sum(), w)
    assert report.ok and np.abs(report.inputs[0].exact).max() > 0.1   # not all zeros
    assert (w.grad_fn, w._version, w.tolist()) == before and w.grad is None and w.retains_grad
    mutate(OPS["tanh"], vjp=(lambda xp, g, ans, x: g * (1 - ans * ans) * (1 + 1e-9),))
    assert not sg.verify.check(lambda *_: (x @ w).tanh().sum(), w).ok
    with pytest.raises(GradcheckError):
        sg.autograd.gradcheck(lambda *_: (x @ w).tanh().sum(), (w,))
