"""Reductions: prod, max/min, amax/amin, argmax/argmin, logsumexp, softmax, log_softmax,
var, std and norm.

Driven by tables: every record's rule against sympy.diff of its mirror, the engine against
exact derivatives at ordinary points, at ties, at zeros and at +-1000, and the same programs
run by PyTorch (values, gradients, node names, dtypes, shapes, named tuples, errors).
"""

import math
import pickle
import threading

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.ops import OPS
from symgrad.ops.reduction import vector_norm
from symgrad.verify.rules import AGREE_SAMPLED, PROVED, check_rules

nan, inf = math.nan, math.inf

X = np.array([[0.5, -1.25, 2.0, 0.75], [1.5, -0.5, 1.0, -2.0], [0.25, 3.0, -1.0, 0.5]])
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 0.5, 1.0, -1.0]])
ZEROS = np.array([[2.0, 0.0, 3.0], [1.0, 2.0, 3.0], [0.0, 0.0, 1.5]])
BIG = np.array([[1000.0, -1000.0, 999.5], [-1000.0, -1000.0, -999.0]])
SAME = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
SMALL = X[:2, :3]  # SymPy's Max and sqrt of 12 entries cost more than the point is worth




# ================================================================ rule proofs
PROVED_OPS = ["prod", "max_dim", "logsumexp", "softmax", "log_softmax", "var", "norm"]
# Sharing a gradient among ties (and std's 0 at a zero spread) differs from the derivative
# exactly on the kinks, so SymPy cannot reduce rule - derivative to 0: these are compared at
# sampled points ("agree").
SAMPLED_OPS = ["amax", "amin", "norm_inf", "std"]


@pytest.mark.parametrize("name", PROVED_OPS)
def test_rule_is_proved(name):
    (res,) = check_rules([name], points=4)
    assert res.verdict == PROVED, res.detail


def test_tie_rules_agree_at_sampled_points():
    # Off the main thread check_rules skips SymPy's simplify (it needs SIGALRM for its
    # timeout), which cannot decide these differences anyway; the verdict is the same
    # "agree" that tests/test_ops.py reaches on the main thread after the timeout.
    out: dict = {}
    worker = threading.Thread(target=lambda: out.update(res=check_rules(SAMPLED_OPS, points=8)))
    worker.start()
    worker.join()
    assert [(r.op, r.verdict) for r in out["res"]] == [(n, AGREE_SAMPLED) for n in SAMPLED_OPS]


def test_every_new_op_is_in_the_table():
    assert set(PROVED_OPS + SAMPLED_OPS) <= set(OPS)
    assert OPS["max_dim"].vjp[0] is not None and OPS["max_dim"].kinks is not None
    for name in ("amax", "amin", "max_dim", "norm", "norm_inf", "std"):
        assert "PyTorch" in OPS[name].kinks.convention


# ================================================================ exact checks (verifier)
CHECKS = {
    "prod": (lambda t: t.prod(), X[:2]),
    "prod_dim_keep": (lambda t: (t.prod(-1, keepdim=True) * t).sum(), X[:2]),
    "prod_zeros": (lambda t: t.prod(1).sum() + t[0].prod() + t[2].prod(), ZEROS),
    "prod_all_zeros": (lambda t: t.prod(), ZEROS),
    "max": (lambda t: t.max(), SMALL),
    "min_dim": (lambda t: (t.min(0).values * t[0]).sum(), SMALL),
    "amax": (lambda t: t.amax((0, 1)), SMALL),
    "amin_dim": (lambda t: t.amin(-1).exp().sum(), SMALL),
    "logsumexp": (lambda t: t.logsumexp(1).sum(), X),
    "logsumexp_big": (lambda t: t.logsumexp(1).sum(), BIG),
    "logsumexp_-big": (lambda t: (-t).logsumexp((0, 1)), BIG),
    "softmax": (lambda t: (t.softmax(1) * t).sum(), SMALL),
    "softmax_big": (lambda t: t.softmax(1)[:, 2].sum(), BIG),
    "log_softmax": (lambda t: (t.log_softmax(0) ** 2).sum(), SMALL),
    "log_softmax_big": (lambda t: t.log_softmax(-1)[:, 1].sum(), BIG),
    "var": (lambda t: t.var(1).sum(), SMALL),
    "std": (lambda t: t.std(0, correction=0).sum(), SMALL),
    "std_all": (lambda t: t.std(), SMALL),
    "norm_fro": (lambda t: t.norm(), X),
    "norm_1": (lambda t: t.norm(p=1, dim=0).sum(), X),
    "norm_3": (lambda t: t.norm(p=3, dim=1, keepdim=True).sum(), SMALL),
    "norm_half": (lambda t: t.norm(p=0.5), X),
    "norm_inf": (lambda t: t.norm(p=inf, dim=0).sum(), SMALL),
    "norm_huge": (lambda t: (t * 1e200).norm() * 1e-200, X),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_verifier_agrees(name):
    fn, data = CHECKS[name]
    rep = verify.check(fn, sg.tensor(data))
    assert rep.ok and all(r.verdict == "agree" for r in rep.rows), rep.table()


KINKS = {  # (fn, input, op whose kink is found, verdicts allowed for the input)
    "amax_ties": (lambda t: t.amax(1).sum(), TIES, "amax"),
    "max_ties": (lambda t: t.max(), TIES[:2, :3], "amax"),
    "max_dim_ties": (lambda t: t.max(1).values.sum(), TIES, "max_dim"),
    "min_dim_ties": (lambda t: t.min(1).values.sum(), TIES, "max_dim"),
    "norm_inf_ties": (lambda t: t.norm(p=inf, dim=1).sum(), TIES, "norm_inf"),
    "norm_zero": (lambda t: t.norm(), np.zeros((2, 2)), "norm"),
    "norm_1_zero_entry": (lambda t: t.norm(p=1), ZEROS, "norm"),
    "std_same": (lambda t: t.std(1).sum(), SAME, "std"),
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_kinks_are_reported_with_the_convention(name):
    fn, data, op = KINKS[name]
    rep = verify.check(fn, sg.tensor(data))
    assert any(k.op == op and "PyTorch" in k.convention for k in rep.kinks), rep.table()
    assert all(r.verdict in ("agree", "non-differentiable point") for r in rep.rows), rep.table()


# ================================================================ against PyTorch
def _max_other(m, t):
    return m.max(t, t * t)


TORCH_CASES = {
    # prod: exact at zeros (one zero: the product of the others there; two: 0)
    "prod": (lambda m, t: t.prod(), X),
    "prod_dim": (lambda m, t: m.prod(t, 1), X),
    "prod_negdim_keep": (lambda m, t: t.prod(-2, keepdim=True), X),
    "prod_one_zero": (lambda m, t: t.prod(), np.array([2.0, 0.0, 3.0])),
    "prod_two_zeros": (lambda m, t: t.prod(), np.array([2.0, 0.0, 0.0])),
    "prod_zeros_dim": (lambda m, t: t.prod(1), ZEROS),
    "prod_zeros_dim0": (lambda m, t: t.prod(0, keepdim=True), ZEROS),
    "prod_0d": (lambda m, t: t.prod(), np.array(-1.5)),
    "prod_0d_dim": (lambda m, t: t.prod(0), np.array(-1.5)),
    # max / min of everything: ties share evenly, NaNs share a NaN result
    "max": (lambda m, t: t.max(), X),
    "max_ties": (lambda m, t: t.max(), TIES),
    "min_ties": (lambda m, t: m.min(t), TIES),
    "max_nan": (lambda m, t: t.max(), np.array([nan, 1.0, nan])),
    "max_0d": (lambda m, t: t.max(), np.array(2.5)),
    "max_other": (_max_other, X),
    # max / min over a dim: (values, indices), the gradient to the first extreme entry
    "max_dim": (lambda m, t: t.max(1), X),
    "max_dim_ties": (lambda m, t: t.max(dim=1), TIES),
    "max_dim0_ties_keep": (lambda m, t: m.max(t, 0, True), TIES),
    "min_dim_ties_neg_keep": (lambda m, t: m.min(t, -1, keepdim=True), TIES),
    "min_dim_nan": (lambda m, t: t.min(0), np.array([1.0, nan, nan])),
    "max_dim_0d": (lambda m, t: t.max(0), np.array(2.5)),
    "min_dim_0d_keep": (lambda m, t: t.min(-1, True), np.array(2.5)),
    # amax / amin: ties share evenly per slice
    "amax": (lambda m, t: t.amax(), X),
    "amax_dims_keep": (lambda m, t: m.amax(t, (0, 1), keepdim=True), TIES),
    "amax_ties": (lambda m, t: t.amax(1), TIES),
    "amin_neg": (lambda m, t: t.amin(-2), TIES),
    "amin_0d": (lambda m, t: t.amin(), np.array(1.0)),
    "amax_nan": (lambda m, t: t.amax(), np.array([nan, 1.0])),
    # logsumexp, softmax, log_softmax, also at +-1000
    "logsumexp": (lambda m, t: m.logsumexp(t, 1), X),
    "logsumexp_dims_keep": (lambda m, t: t.logsumexp((0, -1), keepdim=True), X),
    "logsumexp_big": (lambda m, t: t.logsumexp(1), BIG),
    "logsumexp_-big": (lambda m, t: (-t).logsumexp(0), BIG),
    "logsumexp_0d": (lambda m, t: t.logsumexp(0), np.array(0.3)),
    "logsumexp_-inf": (lambda m, t: t.logsumexp(0), np.array([-inf, -inf])),
    "softmax": (lambda m, t: m.softmax(t, 1), X),
    "softmax_negdim": (lambda m, t: t.softmax(-2), X),
    "softmax_big": (lambda m, t: t.softmax(1), BIG),
    "softmax_-big": (lambda m, t: (-t).softmax(0), BIG),
    "softmax_0d": (lambda m, t: t.softmax(0), np.array(0.3)),
    "softmax_inf": (lambda m, t: t.softmax(0), np.array([inf, 1.0])),
    "log_softmax": (lambda m, t: m.log_softmax(t, 0), X),
    "log_softmax_big": (lambda m, t: t.log_softmax(-1), BIG),
    "log_softmax_-big": (lambda m, t: (-t).log_softmax(0), BIG),
    "log_softmax_-inf": (lambda m, t: t.log_softmax(0), np.array([-inf, 1.0])),
    # var / std: both signatures
    "var": (lambda m, t: t.var(), X),
    "var_dim": (lambda m, t: m.var(t, 1), X),
    "var_positional": (lambda m, t: t.var(0, False, True), X),
    "var_unbiased_only": (lambda m, t: m.var(t, False), X),
    "var_correction": (lambda m, t: t.var(dim=(0, 1), correction=2, keepdim=True), X),
    "var_correction_float": (lambda m, t: t.var(-1, correction=0.5), X),
    "std": (lambda m, t: t.std(), X),
    "std_dim_keep": (lambda m, t: m.std(t, -1, keepdim=True), X),
    "std_unbiased_false": (lambda m, t: t.std(0, unbiased=False), X),
    "std_zero_spread": (lambda m, t: t.std(1), SAME),
    # norms: 'fro', 1, 2, 3, 1.5, 0.5, inf; 0 at a zero norm
    "norm": (lambda m, t: t.norm(), X),
    "norm_fro_dims": (lambda m, t: m.norm(t, "fro", (0, 1)), X),
    "norm_fro_dim": (lambda m, t: t.norm("fro", 1), X),
    "norm_fro_3d": (lambda m, t: t.reshape(3, 2, 2).norm(), X),
    "norm_1": (lambda m, t: t.norm(p=1), X),
    "norm_2_dim_keep": (lambda m, t: t.norm(2, -1, True), X),
    "norm_3": (lambda m, t: t.norm(p=3, dim=0), X),
    "norm_1.5": (lambda m, t: t.norm(p=1.5, dim=(0, 1)), X),
    "norm_0.5": (lambda m, t: t.norm(p=0.5, dim=1), ZEROS),
    "norm_inf": (lambda m, t: t.norm(p=inf), X),
    "norm_inf_ties": (lambda m, t: t.norm(p=inf, dim=1), TIES),
    "norm_zero": (lambda m, t: t.norm(), np.zeros((2, 3))),
    "norm_zero_rows": (lambda m, t: t.norm(dim=1), np.array([[0.0, 0.0], [3.0, -4.0]])),
    "norm_1_zero_entries": (lambda m, t: t.norm(p=1, dim=0), ZEROS),
    "norm_3_zero": (lambda m, t: t.norm(p=3), np.zeros(3)),
    "norm_inf_zero": (lambda m, t: t.norm(p=inf), np.zeros(3)),
    "norm_0d": (lambda m, t: t.norm(), np.array(-3.0)),
}


def _cotangent(shape):
    n = int(np.prod(shape))
    return np.linspace(0.5, 1.75, n).reshape(shape) if n else np.zeros(shape)


def _run(m, fn, data):
    t = m.tensor(data, requires_grad=True)
    out = fn(m, t)
    values = out[0] if isinstance(out, tuple) else out
    values.backward(m.tensor(_cotangent(tuple(values.shape))))
    return t, out, values


def _close(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-12, atol=0,
                               equal_nan=True)


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_matches_pytorch(torch, name):
    fn, data = TORCH_CASES[name]
    t_s, out_s, val_s = _run(sg, fn, data)
    t_t, out_t, val_t = _run(torch, fn, data)
    assert tuple(val_s.shape) == tuple(val_t.shape)
    assert val_s.dtype.name == str(val_t.dtype).removeprefix("torch.")
    assert val_s.grad_fn.name() == val_t.grad_fn.name()
    _close(val_s.detach().numpy(), val_t.detach().numpy())
    _close(t_s.grad.numpy(), t_t.grad.numpy())
    if isinstance(out_t, tuple):
        assert type(out_s).__name__ == type(out_t).__name__
        assert out_s._fields == ("values", "indices") and out_s.indices is out_s[1]
        assert out_s.indices.dtype == sg.int64 and not out_s.indices.requires_grad
        np.testing.assert_array_equal(out_s.indices.numpy(), out_t.indices.numpy())
        assert tuple(out_s.indices.shape) == tuple(out_t.indices.shape)


DTYPE_CASES = {
    "max_int": (lambda m, t: t.max(), [[1, 5], [3, 2]]),
    "max_dim_int": (lambda m, t: t.max(1), [[1, 5], [3, 2]]),
    "amin_int32": (lambda m, t: t.int().amin(0), [[1, 5], [3, 2]]),
    "max_bool": (lambda m, t: t.max(), [True, False]),
    "prod_int": (lambda m, t: t.prod(), [[1, 5], [3, 2]]),
    "prod_int32": (lambda m, t: t.int().prod(1), [[1, 5], [3, 2]]),
    "prod_bool": (lambda m, t: t.prod(), [True, False]),
    "prod_dtype": (lambda m, t: t.prod(dtype=m.float32), [[1, 5], [3, 2]]),
    "argmax": (lambda m, t: t.argmax(), [[1.0, 5.0], [5.0, 2.0]]),
    "argmax_keep": (lambda m, t: t.argmax(keepdim=True), [[1.0, 5.0], [5.0, 2.0]]),
    "argmin_dim": (lambda m, t: m.argmin(t, 1), [[1.0, 1.0], [5.0, 2.0]]),
    "argmax_neg_keep": (lambda m, t: t.argmax(-2, True), [[1.0, 5.0], [5.0, 2.0]]),
    "argmax_0d": (lambda m, t: t.argmax(0), 3.0),
    "argmin_nan": (lambda m, t: t.argmin(), [1.0, nan, 0.0]),
    "logsumexp_int": (lambda m, t: m.logsumexp(t, 0), [1, 2]),
    "softmax_dtype": (lambda m, t: t.softmax(0, dtype=m.float32), [1, 2]),
    "softmax_f32": (lambda m, t: t.float().softmax(0), [1.0, 2.0]),
    "norm_f32": (lambda m, t: t.float().norm(), [3.0, 4.0]),
    "var_f32": (lambda m, t: t.float().var(), [3.0, 4.0]),
    "max_f32": (lambda m, t: t.float().max(0), [3.0, 4.0]),
}


@pytest.mark.parametrize("name", sorted(DTYPE_CASES))
def test_dtypes_match_pytorch(torch, name):
    fn, data = DTYPE_CASES[name]
    ours, theirs = fn(sg, sg.tensor(data)), fn(torch, torch.tensor(data))
    if isinstance(theirs, tuple):
        assert ours.indices.dtype.name == "int64" and theirs.indices.dtype == torch.int64
        ours, theirs = ours.values, theirs.values
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float),
                               rtol=1e-6, equal_nan=True)


def test_float32_gradients_match_pytorch(torch):
    for fn in (lambda m, t: t.amax(1), lambda m, t: t.softmax(1), lambda m, t: t.std(0),
               lambda m, t: t.norm(p=inf, dim=1), lambda m, t: t.prod(0)):
        t_s, _, _ = _run(sg, lambda m, t: fn(m, t.float()), TIES)
        t_t, _, _ = _run(torch, lambda m, t: fn(m, t.float()), TIES)
        np.testing.assert_allclose(t_s.grad.numpy(), t_t.grad.numpy(), rtol=1e-6, atol=1e-7)


SECOND_ORDER = {
    "softmax": lambda m, t: t.softmax(1),
    "log_softmax": lambda m, t: t.log_softmax(0),
    "logsumexp": lambda m, t: t.logsumexp(1),
    "var": lambda m, t: t.var(1),
    "std": lambda m, t: t.std(0),
    "prod": lambda m, t: t.prod(1),
    "norm": lambda m, t: t.norm(dim=1),
    "norm_3": lambda m, t: t.norm(p=3),
    "amax": lambda m, t: t.amax(1),
    "max_dim": lambda m, t: t.max(1).values,
}


def _hvp(m, fn, data):
    """d/dt <c, grad (fn(t) ** 2).sum()>: a Hessian-vector product through the rules."""
    t = m.tensor(data, requires_grad=True)
    (g,) = m.autograd.grad((fn(m, t) ** 2).sum(), t, create_graph=True)
    (h,) = m.autograd.grad((g * m.tensor(_cotangent(data.shape))).sum(), t)
    return h.detach().numpy()


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivatives_match_pytorch(torch, name):
    fn = SECOND_ORDER[name]
    data = ZEROS if name == "prod" else X
    np.testing.assert_allclose(_hvp(sg, fn, data), _hvp(torch, fn, data), rtol=1e-11,
                               atol=1e-12)


ERRORS = {
    "max_keepdim_without_dim": lambda m, t: t.max(keepdim=True),
    "max_dim_out_of_range": lambda m, t: t.max(2),
    "max_dim_tuple": lambda m, t: m.max(t, dim=(0, 1)),
    "max_empty": lambda m, t: m.ones(0).max(),
    "amax_empty_dim": lambda m, t: m.ones(2, 0).amax(1),
    "amax_repeated_dim": lambda m, t: t.amax((0, 0)),
    "argmax_empty": lambda m, t: m.ones(0).argmax(),
    "softmax_long": lambda m, t: m.tensor([1, 2]).softmax(0),
    "softmax_no_dim": lambda m, t: m.softmax(t),
    "softmax_dim_none": lambda m, t: t.softmax(None),
    "softmax_dim_range": lambda m, t: t.softmax(2),
    "var_long": lambda m, t: m.tensor([1, 2]).var(),
    "var_unbiased_and_correction": lambda m, t: t.var(1, unbiased=True, correction=1),
    "norm_long": lambda m, t: m.tensor([1, 2]).norm(),
    "norm_bad_order": lambda m, t: t.norm(p="abc"),
    "norm_fro_3_dims": lambda m, t: t.norm(p="fro", dim=(0, 1, 1)),
    "norm_inf_empty": lambda m, t: m.ones(0).norm(p=inf),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_pytorch(torch, name):
    fn = ERRORS[name]
    with pytest.raises(Exception) as theirs:
        fn(torch, torch.tensor(X))
    with pytest.raises(type(theirs.value)):
        fn(sg, sg.tensor(X))


# ================================================================ named tuples, misc
def test_named_tuple_prints_like_pytorch(torch):
    for fn in (lambda m, t: t.max(1), lambda m, t: m.min(t.float(), 0, keepdim=True),
               lambda m, t: t.max(0)):
        ours = fn(sg, sg.tensor(X, requires_grad=True))
        theirs = fn(torch, torch.tensor(X, requires_grad=True))
        assert repr(ours).replace("symgrad.", "torch.") == repr(theirs)
        assert str(ours) == repr(ours)
        assert repr(ours).startswith(f"symgrad.return_types.{type(ours).__name__}(\nvalues=")


def test_named_tuple_behaves_as_a_tuple():
    r = sg.tensor(X).max(1)
    values, indices = r
    assert values is r.values and indices is r[1] and len(r) == 2
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is type(r) and back.indices.tolist() == [2, 0, 1]
    assert type(sg.tensor(X).min(0)).__name__ == "min"


def test_max_min_with_a_tensor_are_elementwise():
    a, b = sg.tensor([1.0, 5.0]), sg.tensor([3.0, 2.0])
    assert sg.max(a, b).tolist() == [3.0, 5.0] and a.min(b).tolist() == [1.0, 2.0]


def test_stable_at_extremes():
    x = sg.tensor([1000.0, -1000.0, 1000.0])
    assert x.logsumexp(0).item() == pytest.approx(1000 + math.log(2), rel=1e-15)
    assert (-x).logsumexp(0).item() == pytest.approx(1000 + math.log(1 + 2 * math.exp(-2000)))
    assert x.softmax(0).tolist() == [0.5, 0.0, 0.5]
    assert x.log_softmax(0).tolist() == [-math.log(2), -2000 - math.log(2), -math.log(2)]
    assert sg.tensor([1e200, -1e200]).norm().item() == pytest.approx(math.sqrt(2) * 1e200)
    assert sg.tensor([3e-200, 4e-200]).norm(p=3).item() == pytest.approx(91 ** (1 / 3) * 1e-200)


def test_var_warns_when_degrees_of_freedom_run_out():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        assert math.isnan(sg.tensor([2.0]).var().item())
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert sg.tensor([1.0, 2.0]).std(correction=2).item() == inf


def test_internal_namespace_calls():
    # the Tensor namespace (create_graph=True) calls amax / amin / prod with axis tuples
    t = sg.tensor(X)
    assert sg.ops.amax(t, dim=None, keepdim=True).shape == (1, 1)
    assert sg.ops.amin(t, dim=(0, 1)).item() == -2.0
    assert sg.ops.prod(t, dim=(0, 1), keepdim=True).item() == pytest.approx(np.prod(X))
    assert vector_norm(t, ord=1, dim=0).tolist() == np.abs(X).sum(0).tolist()


def test_symbolic_mirrors_are_textbook():
    w = sg.symbolic.symbols("w", (2,))
    assert str(w.softmax(0)[0].item()) == "exp(w[0])/(exp(w[0]) + exp(w[1]))"
    assert str(w.logsumexp(0).item()) == "log(exp(w[0]) + exp(w[1]))"
    assert str(w.amax().item()) == "Max(w[0], w[1])"
    assert str(w.norm(p=1).item()) == "Abs(w[0]) + Abs(w[1])"
    with pytest.raises(TypeError, match="symbolic"):
        w.max(0)


@pytest.mark.parametrize("fn", ["all", "any", "count_nonzero"])
@pytest.mark.parametrize("value", [0.0, 2.0])
def test_all_any_count_nonzero_take_dim_0_on_a_0d_tensor(torch, fn, value):
    for dim in [0, -1, (0,), [-1], ()]:
        kws = [{}] if fn == "count_nonzero" else [{}, {"keepdim": True}]
        for kw in kws:
            s = getattr(sg, fn)(sg.tensor(value), dim, **kw)
            t = getattr(torch, fn)(torch.tensor(value), dim, **kw)
            assert s.shape == t.shape == ()
            assert s.item() == t.item()
            assert str(s.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
            assert getattr(sg.tensor(value), fn)(dim=dim).item() == t.item()
    for dim in [1, -2, (1,)]:
        with pytest.raises(IndexError, match="Dimension out of range"):
            getattr(sg, fn)(sg.tensor(value), dim)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        getattr(sg, fn)(sg.tensor(value), (0, -1))


def test_all_any_count_nonzero_dims_as_pytorch(torch):
    a = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])
    for fn in ["all", "any", "count_nonzero"]:
        for dim in [None, 0, -1, (0, 1), [1], (), (1, 0)]:
            s = getattr(sg, fn)(sg.tensor(a)) if dim is None else getattr(sg, fn)(sg.tensor(a), dim)
            t = getattr(torch, fn)(torch.tensor(a)) if dim is None else getattr(torch, fn)(
                torch.tensor(a), dim)
            assert s.tolist() == t.tolist(), (fn, dim)
        with pytest.raises(RuntimeError, match="appears multiple times"):
            getattr(sg, fn)(sg.tensor(a), (1, -1))
