"""A view changed in place, or the base of a live view changed in place: both histories
are rewritten as PyTorch rewrites them (the base: CopySlices; each live view: read again
from it, AsStridedBackward0), so the gradients, values and node names are PyTorch's."""

import numpy as np
import pytest

import symgrad as sg
from torch_parity import program_outcome


def _name(fn):
    return None if fn is None else fn.name()


def _slice_then_add(m, x):
    y = x * 2
    y[:, 0] += 1                            # getitem, add_ on the view, setitem back
    y[1] *= 3
    return y.sum(), [y]


def _view_changed(m, x):
    y = x * 2
    v = y[:, 0]
    v.add_(1)
    return (y * y).sum() + (v * 3).sum(), [y, v]


def _base_changed_under_views(m, x):
    y = x.sin()
    v, w = y[0], y.T
    y.mul_(x)                               # both views are read again from y
    return (v * w[:, 1]).sum() + y[1, 2], [y, v, w]


def _chain_of_views(m, x):
    y = x * 1
    u = y.view(6)
    u2 = u[1:4:2]
    u2.sub_(x[0, :2] ** 2)
    return (y * y).sum() + u2.sum() + u.sum(), [y, u, u2]


def _view_of_a_constant_gets_history(m, x):
    c = m.zeros(3)
    cv = c[1:]
    cv.add_(x[0, :2])
    return (c * c).sum() + cv.sum(), [c, cv]


def _transposed_slice(m, x):
    y = x * 1
    y.T[1:].mul_(x.T[:2].sin())
    return (y ** 2).sum() + y.flatten().flip(0)[0], [y]


def _diagonal_and_select(m, x):
    y = (x @ x.T).clone()
    y.diagonal().add_(x[:, 0])              # diagonal is a view, as in PyTorch
    y.diagonal(1).mul_(3)
    y.select(1, 0).mul_(2)
    return y.sum() + y[1, 1] * y[0, 1], [y]


def _masked_through_a_view(m, x):
    y = x * 1
    r = y[1]
    r[r > 1.5] = 0.0                        # setitem with a mask on a view
    r.clamp_(min=0.5)
    return (y * x).sum(), [y, r]


def _zero_and_fill(m, x):
    y = x * 3
    y[0].zero_()
    y[:, 1].fill_(2.0)
    y[1, 2:].copy_(x[0, :1] * 5)
    return (y * x).sum(), [y]


def _views_of_a_number(m, x):
    y = x[0, 1] * 3                         # 0-d
    v = y.view(1, 1)
    v.mul_(x[1, 2])
    w = y[None]
    y.add_(x[0, 0])
    return y * 2 + v.sum() * w.sum(), [y, v, w]


SCENARIOS = [_views_of_a_number, _slice_then_add, _view_changed, _base_changed_under_views,
             _chain_of_views, _view_of_a_constant_gets_history, _transposed_slice,
             _diagonal_and_select, _masked_through_a_view, _zero_and_fill]


def _run(m, scenario):
    x = m.tensor([[0.5, 1.0, 2.0], [1.5, -0.5, 3.0]], dtype=m.float64, requires_grad=True)
    loss, tensors = scenario(m, x)
    names = [_name(t.grad_fn) for t in tensors]
    values = [t.detach().numpy().copy() for t in tensors]
    loss.backward()
    return loss.item(), x.grad.numpy().copy(), names, values


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.strip("_"))
def test_as_pytorch(torch, scenario):
    got, want = _run(sg, scenario), _run(torch, scenario)
    assert got[0] == pytest.approx(want[0], rel=1e-14)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-14)
    assert got[2] == want[2]
    for a, b in zip(got[3], want[3]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.strip("_"))
def test_verified_exactly(scenario):
    # The rewritten graph is one the verifier replays in SymPy: CopySlices and
    # AsStridedBackward0 have mirrors like every op.
    report = sg.verify.check(lambda x: scenario(sg, x)[0],
                             sg.tensor([[0.5, 1.0, 2.0], [1.5, -0.5, 3.0]], requires_grad=True))
    assert report.ok, report.table()


def test_errors_as_pytorch(torch):
    for m in (sg, torch):
        a = m.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            a[0].add_(1)
        b = a * 1
        with m.no_grad():
            bv = b[0]
        with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
            bv.mul_(2)
        with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
            bv.fill_(2)
        with m.no_grad():
            bv.mul_(2)                      # both under no_grad: allowed, not recorded
        assert b.tolist() == [2, 1, 1] and _name(b.grad_fn) == "MulBackward0"


def test_a_saved_view_changed_later_is_caught_as_in_pytorch(torch):
    for m in (sg, torch):
        x = m.ones(2, 3, requires_grad=True)
        d = x * 1
        d[0] *= d[1]                        # mul saved d[1]; the write-back bumps the version
        with pytest.raises(RuntimeError, match="modified by an inplace|in-place operation"):
            d.sum().backward()


def test_a_view_keeps_its_base_alive_and_knows_it():
    y = sg.ones(4, requires_grad=True) * 2
    v = y[1:].view(3, 1)
    assert v._base is y and v._is_view() and not y._is_view() and y._base is None
    del y
    v.mul_(3)
    assert v._base.tolist() == [2, 6, 6, 6] and type(v._base.grad_fn).__name__ == "CopySlices"


def test_entries_are_found_from_memory_for_any_layout():
    from symgrad.ops.inplace import _Positions

    base = np.arange(24.0).reshape(4, 6)
    for view in (base[::-1, 1:], base[1:3, ::-2], base.T[2], base[:, 3:4].reshape(2, 2),
                 np.diagonal(base), base[0:0]):
        idx = _Positions(base).entries(view)
        np.testing.assert_array_equal(base[idx], view)
    for other in (base.view(np.float32)[:, :2], base.copy()):
        with pytest.raises(RuntimeError, match="cannot tell which entries"):
            _Positions(base).entries(other)


# Programs from a review of this feature, each run in both libraries: the outcome (values,
# gradients, node names, or the error type) must be PyTorch's.
REVIEW_PROGRAMS = {
    "squeeze_of_nothing_is_a_view": """
a = m.ones(2, 3, dtype=m.float64, requires_grad=True); x = a.clone(); s = x.squeeze()
s.mul_(3); x.sum().backward(); out = (x.grad_fn.name(), a.grad.tolist())""",
    "base_changed_under_a_squeezed_view": """
a = m.ones(2, 3, dtype=m.float64, requires_grad=True); x = a.clone(); s = x.squeeze(0)
x.mul_(3); s.sum().backward(); out = (s.grad_fn.name(), a.grad.tolist())""",
    "hook_on_a_view_changed_in_place_is_bypassed": """
a = m.tensor([1., 2., 3.], dtype=m.float64, requires_grad=True); x = a * 1; v = x[1:]
v.register_hook(lambda g: g * 100); v.mul_(2); (v * 3).sum().backward(); out = a.grad.tolist()""",
    "split_outputs_refuse_in_place": """
a = m.ones(4, dtype=m.float64, requires_grad=True); x = a * 1; p, q = x.split(2); p.mul_(2)""",
    "unbind_outputs_refuse_in_place": """
a = m.ones(2, 2, dtype=m.float64, requires_grad=True); x = a * 1; r = x.unbind()[1]; r.add_(1)""",
    "a_view_of_a_no_grad_view_refuses": """
a = m.ones(4, dtype=m.float64, requires_grad=True); x = a * 1
with m.no_grad():
    v = x[1:]
u = v[1:]; u.mul_(2)""",
    "a_no_grad_view_refuses_a_recorded_value": """
x = m.zeros(3, dtype=m.float64); w = m.ones(2, dtype=m.float64, requires_grad=True)
with m.no_grad():
    v = x[1:]
v.add_(w)""",
    "no_grad_views_of_tensors_that_require_grad_do_too": """
a = m.ones(3, dtype=m.float64, requires_grad=True)
with m.no_grad():
    v = a[1:]; e = a * 2
out = (v.requires_grad, v.is_leaf, e.requires_grad, repr(v).replace("torch.", "symgrad."))""",
    "reshape_copy_is_no_view": """
a = m.ones(2, 3, dtype=m.float64, requires_grad=True); x = a * 1; y = x.t().reshape(6)
y.mul_(2); out = (y._base is None, y.grad_fn.name())""",
    "retained_grad_of_a_reshape_copy": """
a = m.ones(2, 2, dtype=m.float64, requires_grad=True); x = a * 1
y = x.t().flatten(); y.retain_grad(); z = y[1:]; z.mul_(2)
(y.sum() + z.sum()).backward(); out = (y.grad.tolist(), a.grad.tolist())""",
    "a_detached_alias_and_its_views_do_not_block": """
a = m.ones(4, dtype=m.float64, requires_grad=True); x = a * 1; d = x.detach(); dv = d[1:]
x.mul_(a); x.sum().backward(); out = (x.grad_fn.name(), dv.tolist(), a.grad.tolist())""",
    "base_data_replaced_while_a_view_lives": """
a = m.tensor([1., 2., 3.], dtype=m.float64, requires_grad=True); x = a * 1; v = x[1:]
x.data = m.tensor([5., 6., 7.], dtype=m.float64); x.mul_(2); out = (x.tolist(), v.tolist())""",
    "empty_diagonal_does_not_block": """
a = m.ones(2, 3, 1, dtype=m.float64, requires_grad=True); x = a * 1
d = x.diagonal(-1, 2, 0); x.mul_(2); out = (tuple(d.shape), x.grad_fn.name())""",
    "copy_nodes_are_named_as_pytorch": """
a = m.ones(2, dtype=m.float64, requires_grad=True); x = a * 1; x.copy_(a); y = a * 1
y[...] = a; out = (x.grad_fn.name(), y.grad_fn.name())""",
    "double_backward_through_T_of_a_number": """
import warnings
warnings.simplefilter("ignore")
a = m.tensor(0.95, dtype=m.float64, requires_grad=True); t = a.T
(g,) = m.autograd.grad(t * t, a, create_graph=True); g.backward()
out = (g.item(), a.grad.item())""",
}


@pytest.mark.parametrize("name", sorted(REVIEW_PROGRAMS))
def test_review_programs_as_pytorch(torch, name):
    code = REVIEW_PROGRAMS[name]
    assert program_outcome(sg, code) == program_outcome(torch, code)
