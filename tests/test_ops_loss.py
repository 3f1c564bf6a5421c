"""Losses (symgrad/ops/loss.py) and linear layers (symgrad/ops/linalg.py), table-driven:
rules against mirrors (check_rules), the verifier at ordinary points, PyTorch float64 values,
gradients, node names and error messages, and the extremes (logits of +-1000, clamped logs,
kinks, ignored targets)."""

import re
import zlib
from contextlib import nullcontext
from types import SimpleNamespace

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.ops import OPS
from symgrad.ops import linalg as LA
from symgrad.ops import loss as L
from symgrad.verify.compare import KINK
from symgrad.verify.rules import MISMATCH, PROVED, check_rules

# torch.nn.functional's names, as symgrad provides them
SF = SimpleNamespace(
    nll_loss=L.nll_loss, cross_entropy=L.cross_entropy, binary_cross_entropy=L.binary_cross_entropy,
    l1_loss=L.l1_loss, smooth_l1_loss=L.smooth_l1_loss, huber_loss=L.huber_loss,
    mse_loss=L.mse_loss, kl_div=L.kl_div, linear=LA.linear)




# ================================================================ rules against mirrors
RECORDS = {"nll_loss": PROVED, "l1_loss": PROVED, "smooth_l1_loss": PROVED,
           "huber_loss": PROVED, "addmm": PROVED, "binary_cross_entropy": "agree"}


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_rule_against_mirror(name):
    (res,) = check_rules([name], points=6)
    assert res.ok, res.detail
    # binary_cross_entropy's rule divides by max(p (1 - p), eps): SymPy cannot drop the max
    # on the domain, so it is sampled; the others are proved on every example
    assert res.verdict == RECORDS[name], res.detail


def test_a_wrong_rule_is_caught(monkeypatch):
    op = OPS["nll_loss"]
    right = op.vjp[0]

    def forgets_the_weights(xp, g, ans, x, w, **params):    # mean over entries, not weights
        return right(xp, g, ans, x, None, **params)

    monkeypatch.setattr(op, "vjp", (forgets_the_weights, None))
    (res,) = check_rules(["nll_loss"], points=4)
    assert res.verdict == MISMATCH and "argument x" in res.detail


# ================================================================ the verifier
R = np.random.default_rng(11)
X23, X34 = R.standard_normal((2, 3)), R.standard_normal((3, 4))
P23 = R.uniform(0.05, 0.95, (2, 3))
Y23 = R.uniform(0.0, 1.0, (2, 3))
S34 = R.dirichlet(np.ones(4), size=3)
W4 = R.uniform(0.5, 2.0, 4)
T3 = np.array([0, 3, -100])

VERIFY = {
    "cross_entropy_weight_ignore": (lambda x: L.cross_entropy(x, sg.tensor(T3), sg.tensor(W4)),
                                    [X34]),
    "cross_entropy_smoothing": (lambda x: L.cross_entropy(
        x, sg.tensor(T3), sg.tensor(W4), reduction="sum", label_smoothing=0.2), [X34]),
    "cross_entropy_probabilities": (lambda x, q: L.cross_entropy(
        x, q, sg.tensor(W4[:3]), label_smoothing=0.1), [X23, S34[:2, :3]]),
    "nll_loss_3d": (lambda x: L.nll_loss(x, sg.tensor([[0, 2], [1, -100]]),
                                         reduction="none").sum(), [R.standard_normal((2, 3, 2))]),
    "binary_cross_entropy": (lambda p, y: L.binary_cross_entropy(p, y, sg.tensor([1., 2., .5])),
                             [P23, Y23]),
    "l1_smooth_l1_huber": (lambda x, y: L.l1_loss(x, y) + L.smooth_l1_loss(x, y, beta=0.5)
                           + L.huber_loss(x, y, reduction="sum", delta=0.7), [X23 * 2, Y23]),
    "kl_div": (lambda x, q: L.kl_div(x, q, reduction="batchmean")
               + L.kl_div(x, q.log(), reduction="sum", log_target=True), [X23, S34[:2, :3]]),
    "linear_3d_bias": (lambda x, w, b: L.mse_loss(LA.linear(x, w, b), sg.ones(2, 1, 2)),
                       [R.standard_normal((2, 1, 3)), X23, R.standard_normal(2)]),
    "addmm_scaled": (lambda b, m1, m2: LA.addmm(b, m1, m2, beta=0.5, alpha=2.0).tanh().sum(),
                     [R.standard_normal(3), X23, R.standard_normal((3, 3))]),
}


@pytest.mark.parametrize("name", sorted(VERIFY))
def test_verifier_agrees(name):
    fn, arrays = VERIFY[name]
    rep = verify.check(fn, *[sg.tensor(a) for a in arrays])
    assert rep.ok, rep.table()


def test_verifier_reports_the_declared_kinks():
    x = sg.tensor([1.0, 2.0, 3.0])
    rep = verify.check(lambda a: L.l1_loss(a, sg.tensor([1.0, 0.0, 0.0])), x)
    assert any("sign(0) = 0" in k.convention for k in rep.kinks), rep.table()
    # (with a weight: the verifier skips kink tests of nodes with a None argument)
    rep = verify.check(lambda p: L.binary_cross_entropy(p, sg.tensor([0.5, 0.5]),
                                                        sg.tensor([1.0, 1.0])),
                       sg.tensor([1e-13, 0.5]))
    assert any("clamp region" in k.convention for k in rep.kinks), rep.table()
    assert rep.ok and rep.rows[1].verdict == KINK, rep.table()


# ================================================================ against PyTorch
def _spec_arrays(specs, rng):
    """("x", shape) logits, ("p", shape) probabilities, ("s", shape) probability rows (all
    three differentiable); ("c", array) a constant (e.g. class indices or weights)."""
    out = []
    for kind, v in specs:
        if kind == "x":
            out.append((rng.standard_normal(v), True))
        elif kind == "p":
            out.append((rng.uniform(0.05, 0.95, v), True))
        elif kind == "s":
            a = rng.uniform(0.1, 1.0, v)
            out.append((a / a.sum(axis=1 if len(v) > 1 else 0, keepdims=True), True))
        else:
            out.append((np.asarray(v), False))
    return out


def _graph(fn):
    """The recorded graph as nested (name, children) tuples; constants (None) left out."""
    if fn is None:
        return None
    name = fn.name().replace("torch::autograd::", "")
    return name, tuple(_graph(n) for n, _ in fn.next_functions if n is not None)


I3 = np.array([0, 3, -100])
I32 = np.array([[0, 1, -100], [3, 3, 2]])
W = np.array([0.5, 2.0, 1.0, 1.5])
Q34 = np.array([[0.5, 0.0, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 0.0, 0.0]])
# name: (fn(F, m, *tensors), argument specs, compare "graph" (every node) or "top" (the name of
# the result's node: where PyTorch's composite records nodes symgrad folds into one record))
TORCH_CASES = {
    # class indices: nll_loss and log_softmax + nll_loss, every layout
    "nll_2d": (lambda F, m, x, t, w: F.nll_loss(x, t, w), [("x", (3, 4)), ("c", I3), ("c", W)],
               "graph"),
    "nll_1d_none": (lambda F, m, x, t: F.nll_loss(x, t, reduction="none"),
                    [("x", (4,)), ("c", 2)], "graph"),
    "nll_ignore_index_1": (lambda F, m, x, t: F.nll_loss(x, t, ignore_index=1, reduction="sum"),
                           [("x", (3, 4)), ("c", [1, 0, 1])], "graph"),
    "nll_all_ignored_mean": (lambda F, m, x, t: F.nll_loss(x, t), [("x", (2, 3)),
                                                                   ("c", [-100, -100])], "graph"),
    "nll_all_ignored_sum": (lambda F, m, x, t: F.nll_loss(x, t, reduction="sum"),
                            [("x", (2, 3)), ("c", [-100, -100])], "graph"),
    "nll_4d": (lambda F, m, x, t: F.nll_loss(x, t),
               [("x", (2, 3, 2, 2)), ("c", [[[0, 2], [1, 1]], [[2, 0], [-100, 1]]])], "graph"),
    "nll_5d_none": (lambda F, m, x, t: F.nll_loss(x, t, reduction="none"),
                    [("x", (2, 3, 2, 1, 2)), ("c", np.arange(8).reshape(2, 2, 1, 2) % 3)],
                    "graph"),
    "nll_uint8_target": (lambda F, m, x, t: F.nll_loss(x, t.to(m.uint8)),
                         [("x", (3, 4)), ("c", [0, 3, 1])], "graph"),
    "nll_legacy_size_average": (lambda F, m, x, t: F.nll_loss(x, t, size_average=False),
                                [("x", (3, 4)), ("c", I3)], "graph"),
    "ce_mean": (lambda F, m, x, t: F.cross_entropy(x, t), [("x", (3, 4)), ("c", I3)], "graph"),
    "ce_weight_none": (lambda F, m, x, t, w: F.cross_entropy(x, t, w, reduction="none"),
                       [("x", (3, 4)), ("c", I3), ("c", W)], "graph"),
    "ce_1d": (lambda F, m, x, t: F.cross_entropy(x, t), [("x", (4,)), ("c", 3)], "graph"),
    "ce_3d_weight": (lambda F, m, x, t, w: F.cross_entropy(x, t, w),
                     [("x", (2, 4, 3)), ("c", I32), ("c", W)], "graph"),
    "ce_3d_none": (lambda F, m, x, t: F.cross_entropy(x, t, reduction="none"),
                   [("x", (2, 4, 3)), ("c", I32)], "graph"),
    # label smoothing (PyTorch masks with an in-place masked_fill_; symgrad multiplies)
    "ce_smoothing_mean": (lambda F, m, x, t: F.cross_entropy(x, t, label_smoothing=0.2),
                          [("x", (3, 4)), ("c", I3)], "top"),
    "ce_smoothing_weight": (lambda F, m, x, t, w: F.cross_entropy(x, t, w, label_smoothing=0.3),
                            [("x", (3, 4)), ("c", I3), ("c", W)], "top"),
    "ce_smoothing_weight_3d_none": (lambda F, m, x, t, w: F.cross_entropy(
        x, t, w, reduction="none", label_smoothing=0.1), [("x", (2, 4, 3)), ("c", I32),
                                                          ("c", W)], "top"),
    "ce_smoothing_1d_sum": (lambda F, m, x, t: F.cross_entropy(
        x, t, reduction="sum", label_smoothing=1.0), [("x", (4,)), ("c", 0)], "top"),
    "ce_smoothing_negative_is_off": (lambda F, m, x, t: F.cross_entropy(
        x, t, label_smoothing=-0.5), [("x", (3, 4)), ("c", I3)], "graph"),
    # class probabilities (the target is differentiable)
    "ce_probs_mean": (lambda F, m, x, q: F.cross_entropy(x, q), [("x", (3, 4)), ("s", (3, 4))],
                      "graph"),
    "ce_probs_weight_smoothing": (lambda F, m, x, q, w: F.cross_entropy(
        x, q, w, label_smoothing=0.25), [("x", (3, 4)), ("s", (3, 4)), ("c", W)], "graph"),
    "ce_probs_3d_none": (lambda F, m, x, q: F.cross_entropy(x, q, reduction="none"),
                         [("x", (2, 4, 3)), ("s", (2, 4, 3))], "graph"),
    "ce_probs_1d_sum": (lambda F, m, x, q: F.cross_entropy(x, q, reduction="sum"),
                        [("x", (4,)), ("s", (4,))], "graph"),
    # binary cross-entropy on probabilities
    "bce_mean": (lambda F, m, p, y: F.binary_cross_entropy(p, y), [("p", (2, 3)), ("p", (2, 3))],
                 "graph"),
    "bce_weight_none": (lambda F, m, p, y, w: F.binary_cross_entropy(p, y, w, reduction="none"),
                        [("p", (2, 3)), ("p", (2, 3)), ("c", [0.5, 1.0, 2.0])], "graph"),
    "bce_weight_sum": (lambda F, m, p, y, w: F.binary_cross_entropy(p, y, w, reduction="sum"),
                       [("p", (2, 3)), ("p", (2, 3)), ("c", [[2.0], [0.5]])], "graph"),
    "bce_0d": (lambda F, m, p, y: F.binary_cross_entropy(p, y), [("p", ()), ("p", ())], "graph"),
    # regression losses (PyTorch composes l1 as mean(abs(sub)): one node here)
    "l1_mean": (lambda F, m, x, y: F.l1_loss(x, y), [("x", (2, 3)), ("x", (2, 3))], "top"),
    "l1_none": (lambda F, m, x, y: F.l1_loss(x, y, reduction="none"),
                [("x", (2, 3)), ("x", (2, 3))], "top"),
    "l1_weight_mean": (lambda F, m, x, y, w: F.l1_loss(x, y, weight=w),
                       [("x", (2, 3)), ("x", (2, 3)), ("p", (2, 3))], "top"),
    "mse_weight_sum": (lambda F, m, x, y, w: F.mse_loss(x, y, reduction="sum", weight=w),
                       [("x", (2, 3)), ("x", (2, 3)), ("c", P23)], "top"),
    "smooth_l1_mean": (lambda F, m, x, y: F.smooth_l1_loss(x, y, beta=0.5),
                       [("x", (2, 3)), ("x", (2, 3))], "graph"),
    "smooth_l1_none": (lambda F, m, x, y: F.smooth_l1_loss(x, y, reduction="none", beta=2.0),
                       [("x", (2, 3)), ("x", (2, 3))], "graph"),
    "smooth_l1_beta0_is_l1": (lambda F, m, x, y: F.smooth_l1_loss(x, y, beta=0.0),
                              [("x", (2, 3)), ("x", (2, 3))], "top"),
    "smooth_l1_broadcast_target": (lambda F, m, x, y: F.smooth_l1_loss(x, y, reduction="sum"),
                                   [("x", (2, 3)), ("c", [0.1, -0.3, 2.0])], "graph"),
    "huber_sum": (lambda F, m, x, y: F.huber_loss(x, y, reduction="sum", delta=0.5),
                  [("x", (2, 3)), ("x", (2, 3))], "graph"),
    "huber_weight_mean": (lambda F, m, x, y, w: F.huber_loss(x, y, delta=0.5, weight=w),
                          [("x", (2, 3)), ("x", (2, 3)), ("c", P23)], "graph"),
    # Kullback-Leibler (PyTorch's xlogy(target, target) is a where() here: "top" when the
    # target is a variable)
    "kl_div_batchmean": (lambda F, m, x, q: F.kl_div(x, q, reduction="batchmean"),
                         [("x", (3, 4)), ("c", Q34)], "graph"),
    "kl_div_warns_mean": (lambda F, m, x, q: F.kl_div(x, q), [("x", (3, 4)), ("c", Q34)],
                          "graph"),
    "kl_div_log_target_none": (lambda F, m, x, q: F.kl_div(x, q, reduction="none",
                                                           log_target=True),
                               [("x", (3, 4)), ("x", (3, 4))], "graph"),
    "kl_div_target_variable_sum": (lambda F, m, x, q: F.kl_div(x, q, reduction="sum"),
                                   [("x", (3, 4)), ("s", (3, 4))], "top"),
    # linear and addmm: what PyTorch records for each input rank
    "linear_2d_bias": (lambda F, m, x, w, b: F.linear(x, w, b), [("x", (3, 4)), ("x", (5, 4)),
                                                                  ("x", (5,))], "graph"),
    "linear_2d": (lambda F, m, x, w: F.linear(x, w), [("x", (3, 4)), ("x", (5, 4))], "graph"),
    "linear_1d_bias": (lambda F, m, x, w, b: F.linear(x, w, b), [("x", (4,)), ("x", (5, 4)),
                                                                  ("x", (5,))], "graph"),
    # (symgrad's matmul is one node where PyTorch's batched / vector matmul records the mm
    # and the views around it under the same top node)
    "linear_1d": (lambda F, m, x, w: F.linear(x, w), [("x", (4,)), ("x", (5, 4))], "top"),
    "linear_3d_bias": (lambda F, m, x, w, b: F.linear(x, w, b), [("x", (2, 3, 4)),
                                                                  ("x", (5, 4)), ("x", (5,))],
                       "graph"),
    "linear_3d": (lambda F, m, x, w: F.linear(x, w), [("x", (2, 3, 4)), ("x", (5, 4))], "top"),
    "linear_4d_bias_const_input": (lambda F, m, x, w, b: F.linear(x, w, b),
                                   [("c", X23.reshape(1, 2, 1, 3)), ("x", (5, 3)), ("x", (5,))],
                                   "graph"),
    "linear_3d_scalar_bias": (lambda F, m, x, w, b: F.linear(x, w, b),
                              [("x", (2, 3, 4)), ("x", (5, 4)), ("x", ())], "top"),
    "linear_3d_transposed_input": (lambda F, m, x, w, b: F.linear(x.transpose(0, 1), w, b),
                                   [("x", (3, 2, 4)), ("x", (5, 4)), ("x", (5,))], "top"),
    "linear_vector_weight": (lambda F, m, x, w: F.linear(x, w), [("x", (3, 4)), ("x", (4,))],
                             "graph"),
    "linear_vector_weight_3d": (lambda F, m, x, w: F.linear(x, w), [("x", (2, 3, 4)),
                                                                     ("x", (4,))], "top"),
    "linear_2d_full_bias": (lambda F, m, x, w, b: F.linear(x, w, b),
                            [("x", (3, 4)), ("x", (5, 4)), ("x", (3, 5))], "graph"),
    "linear_empty_batch": (lambda F, m, x, w, b: F.linear(x, w, b),
                           [("x", (2, 0, 4)), ("x", (5, 4)), ("x", (5,))], "graph"),
    "addmm": (lambda F, m, b, m1, m2: m.addmm(b, m1, m2), [("x", (3,)), ("x", (2, 4)),
                                                         ("x", (4, 3))], "graph"),
    "addmm_scaled": (lambda F, m, b, m1, m2: m.addmm(b, m1, m2, beta=0.5, alpha=-2.0),
                     [("x", (2, 1)), ("x", (2, 4)), ("x", (4, 3))], "graph"),
    "addmm_beta0_ignores_nan": (lambda F, m, b, m1, m2: m.addmm(b, m1, m2, beta=0),
                                [("c", [[np.nan, 1.0]]), ("x", (2, 2)), ("x", (2, 2))], "graph"),
}


def _run_both(torch, name):
    import torch.nn.functional as TF

    fn, specs, depth = TORCH_CASES[name]
    arrays = _spec_arrays(specs, np.random.default_rng(zlib.crc32(name.encode())))
    ours = [sg.tensor(a, requires_grad=g) for a, g in arrays]
    theirs = [torch.tensor(a, requires_grad=g) for a, g in arrays]
    warns = any(k in name for k in ("legacy", "broadcast", "warns"))
    with pytest.warns(UserWarning) if warns else nullcontext():
        out = fn(SF, sg, *ours)
    with pytest.warns(UserWarning) if warns else nullcontext():
        ref = fn(TF, torch, *theirs)
    return ours, theirs, out, ref, depth


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_values_gradients_and_nodes_match_pytorch(torch, name):
    ours, theirs, out, ref, depth = _run_both(torch, name)
    assert out.shape == tuple(ref.shape) and out.dtype.name == str(ref.dtype).split(".")[1]
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-13,
                               atol=1e-14, equal_nan=True)
    graph, expected = _graph(out.grad_fn), _graph(ref.grad_fn)   # Scalar variants too
    assert (graph if depth == "graph" else graph[0]) == (
        expected if depth == "graph" else expected[0])
    cot = np.random.default_rng(1).standard_normal(tuple(ref.shape))
    out.backward(sg.tensor(cot))
    ref.backward(torch.tensor(cot))
    for a, b in zip(ours, theirs):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-13,
                                       equal_nan=True)


SECOND_ORDER = {   # fn(F, m, x): derivatives of the rules themselves (create_graph=True)
    "cross_entropy": lambda F, m, x: F.cross_entropy(x, m.tensor(I3), m.tensor(W)),
    "cross_entropy_smoothing": lambda F, m, x: F.cross_entropy(
        x, m.tensor(I3), m.tensor(W), reduction="none", label_smoothing=0.3).sum(),
    "cross_entropy_probabilities": lambda F, m, x: F.cross_entropy(
        x, m.tensor(S34), label_smoothing=0.1),
    "binary_cross_entropy": lambda F, m, x: F.binary_cross_entropy(x.sigmoid(), m.tensor(P23[0])),
    "smooth_l1_huber": lambda F, m, x: F.smooth_l1_loss(x, m.zeros(3), beta=2.0)
    + F.huber_loss(x, m.zeros(3), delta=0.2),
    "linear": lambda F, m, x: F.linear(x, m.ones(2, 3) / 3, m.ones(2)).tanh().sum(),
    "addmm": lambda F, m, x: m.addmm(m.ones(2), x.reshape(1, 3), m.ones(3, 2), alpha=0.5)
    .exp().sum(),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivatives_match_pytorch(torch, name):
    import torch.nn.functional as TF

    fn = SECOND_ORDER[name]
    a = np.random.default_rng(2).standard_normal((3, 4) if name.startswith("cross") else (3,))
    x, tx = sg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    v = np.random.default_rng(3).standard_normal(a.shape)
    try:
        (g,) = sg.autograd.grad(fn(SF, sg, x), x, create_graph=True)
        (h,) = sg.autograd.grad((g * sg.tensor(v)).sum(), x)
    except (NotImplementedError, AttributeError) as e:   # a rule's function has no op yet
        pytest.skip(str(e))
    (tg,) = torch.autograd.grad(fn(TF, torch, tx), tx, create_graph=True)
    (th,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-11, atol=1e-12)


# ================================================================ extremes and conventions
def test_cross_entropy_exact_at_logits_of_1000(torch):
    import torch.nn.functional as TF

    x = np.array([[1000., -1000., 0.], [-1000., 1000., 999.], [0., 0., -1000.]])
    q = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    t = np.array([1, 2, 0])
    for kw in ({}, {"label_smoothing": 0.1}, {"weight": [1.0, 2.0, 0.5]}):
        for target in (t, q):
            a, b = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            wa = {k: (sg.tensor(v) if k == "weight" else v) for k, v in kw.items()}
            wb = {k: (torch.tensor(v) if k == "weight" else v) for k, v in kw.items()}
            ra = L.cross_entropy(a, sg.tensor(target), reduction="none", **wa)
            rb = TF.cross_entropy(b, torch.tensor(target), reduction="none", **wb)
            assert np.all(np.isfinite(ra.detach().numpy()))
            np.testing.assert_allclose(ra.detach().numpy(), rb.detach().numpy(), rtol=1e-15)
            ra.sum().backward()
            rb.sum().backward()
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=0, atol=1e-15)
    # -log softmax([1000, -1000, 0])[1] = 2000 exactly
    assert L.cross_entropy(sg.tensor(x[:1]), sg.tensor([1])).item() == 2000.0


def test_nll_reads_only_the_target_entries(torch):
    import torch.nn.functional as TF

    with np.errstate(divide="ignore"):
        logp = np.log(np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]))     # -inf elsewhere
    a, b = sg.tensor(logp, requires_grad=True), torch.tensor(logp, requires_grad=True)
    ra, rb = L.nll_loss(a, sg.tensor([1, 2])), TF.nll_loss(b, torch.tensor([1, 2]))
    assert ra.item() == rb.item() == pytest.approx(np.log(2) / 2)
    ra.backward()
    rb.backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_nll_weighted_mean_divides_by_the_counted_weights():
    x = R.standard_normal((4, 3))
    t = np.array([2, -100, 0, 2])
    w = np.array([0.5, 3.0, 2.0])
    got = L.nll_loss(sg.tensor(x), sg.tensor(t), sg.tensor(w)).item()
    kept = t != -100
    want = -(w[t[kept]] * x[kept, t[kept]]).sum() / w[t[kept]].sum()
    assert got == pytest.approx(want, rel=1e-15)
    none = L.nll_loss(sg.tensor(x), sg.tensor(t), sg.tensor(w), reduction="none").numpy()
    assert none[1] == 0.0 and none[0] == -2.0 * x[0, 2]


def test_binary_cross_entropy_clamp_region_as_pytorch(torch):
    import torch.nn.functional as TF

    p = np.array([0.0, 1e-50, 1e-13, 1e-12, 0.3, 1 - 1e-13, 1.0])
    y = np.array([0.3, 0.5, 0.2, 1.0, 0.0, 0.7, 0.2])
    a, b = sg.tensor(p, requires_grad=True), sg.tensor(y, requires_grad=True)
    ta, tb = torch.tensor(p, requires_grad=True), torch.tensor(y, requires_grad=True)
    ra = L.binary_cross_entropy(a, b, reduction="none")
    rb = TF.binary_cross_entropy(ta, tb, reduction="none")
    np.testing.assert_allclose(ra.detach().numpy(), rb.detach().numpy(), rtol=1e-15)
    assert ra.detach().numpy()[-1] == 80.0                 # log(1 - 1) clamped at -100
    ra.sum().backward()
    rb.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
    assert b.grad.numpy()[0] == np.inf and b.grad.numpy()[-1] == -np.inf


KINKS = {   # (fn(F, x, y), input, target): the points where the loss is not (twice) differentiable
    "l1_at_zero": (lambda F, x, y: F.l1_loss(x, y, reduction="sum"), [1.0, -2.0, 0.5],
                   [1.0, -2.0, 0.0]),
    "smooth_l1_at_beta": (lambda F, x, y: F.smooth_l1_loss(x, y, reduction="sum", beta=0.5),
                          [0.5, -0.5, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]),
    "huber_at_delta": (lambda F, x, y: F.huber_loss(x, y, reduction="sum", delta=0.5),
                       [0.5, -0.5, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]),
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_kinks_follow_pytorch(torch, name):
    import torch.nn.functional as TF

    fn, x, y = KINKS[name]
    a, b = sg.tensor(x, requires_grad=True), sg.tensor(y, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    fn(SF, a, b).backward()
    fn(TF, ta, tb).backward()
    for ours, theirs in ((a.grad.numpy(), ta.grad.numpy()), (b.grad.numpy(), tb.grad.numpy())):
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))   # -0.0 too


def test_class_target_is_copied_and_not_differentiable():
    t = sg.tensor([0, 2])
    x = sg.tensor(X23, requires_grad=True)
    loss = L.cross_entropy(x, t)
    t[0] = 1            # the node keeps a copy (PyTorch's would refuse to run backward)
    loss.backward()
    want = np.exp(X23) / np.exp(X23).sum(1, keepdims=True)
    want[[0, 1], [0, 2]] -= 1
    np.testing.assert_allclose(x.grad.numpy(), want / 2, rtol=1e-14)
    assert OPS["nll_loss"].vjp[1] is None         # the weight has no rule (as PyTorch)


# ================================================================ errors, as PyTorch raises them
ERRORS = {   # fn(F, m): PyTorch's exception type and message (a regex both must match)
    "nll_target_out_of_bounds": (lambda F, m: F.nll_loss(m.zeros(3, 4), m.tensor([0, 4, 1])),
                                 IndexError, r"Target 4 is out of bounds\."),
    "nll_negative_target": (lambda F, m: F.nll_loss(m.zeros(3, 4), m.tensor([0, -1, 1])),
                            IndexError, r"Target -1 is out of bounds\."),
    "nll_batch_sizes": (lambda F, m: F.nll_loss(m.zeros(3, 4), m.tensor([0, 1])), ValueError,
                        r"Expected input batch_size \(3\) to match target batch_size \(2\)\."),
    "nll_float_target": (lambda F, m: F.nll_loss(m.zeros(3, 4), m.tensor([0., 1., 1.])),
                         RuntimeError, "expected target dtype to be Long or Byte, but got Double"),
    "nll_int32_target": (lambda F, m: F.nll_loss(m.zeros(3, 4), m.tensor([0, 1, 1]).int()),
                         RuntimeError, "expected target dtype to be Long or Byte, but got Int"),
    "nll_2d_target": (lambda F, m: F.nll_loss(m.zeros(3, 4), m.zeros(3, 2).long()),
                      RuntimeError, "0D or 1D target tensor expected, multi-target not supported"),
    "nll_0d_input": (lambda F, m: F.nll_loss(m.tensor(1.), m.tensor(0)), ValueError,
                     r"Expected 1 or more dimensions \(got 0\)"),
    "nll_1d_input_2_targets": (lambda F, m: F.nll_loss(m.zeros(4), m.tensor([0, 1])),
                               ValueError, "For 1D input, 1D target must have size 1, but got "
                                           "target size: 2"),
    "nll_weight_size": (lambda F, m: F.nll_loss(m.zeros(3, 4), m.tensor([0, 1, 1]), m.ones(3)),
                        RuntimeError, r"weight tensor should be defined either for all 4 classes "
                                      r"or no classes but got weight tensor of shape: \[3\]"),
    "nll_3d_target_shape": (lambda F, m: F.nll_loss(m.zeros(3, 4, 5), m.zeros(3, 4).long()),
                            RuntimeError, r"Expected target size \[3, 5\], got \[3, 4\]"),
    "nll_4d_target_dims": (lambda F, m: F.nll_loss(m.zeros(3, 4, 5, 2), m.zeros(3, 5).long()),
                           RuntimeError, r"only batches of spatial targets supported \(3D "
                                         r"tensors\) but got targets of dimension: 2"),
    "nll_4d_size_mismatch": (lambda F, m: F.nll_loss(m.zeros(3, 4, 5, 2), m.zeros(3, 5, 3).long()),
                             RuntimeError, re.escape("size mismatch (got input: [3, 4, 5, 2] , "
                                                     "target: [3, 5, 3]")),
    "nll_4d_weight": (lambda F, m: F.nll_loss(m.zeros(3, 4, 5, 2), m.zeros(3, 5, 2).long(),
                                              m.ones(3)),
                      RuntimeError, "weight tensor should be defined either for all or no classes"),
    "nll_reduction": (lambda F, m: F.nll_loss(m.zeros(3, 4), m.tensor([0, 1, 1]), reduction="avg"),
                      ValueError, "avg is not a valid value for reduction"),
    "nll_weight_requires_grad": (lambda F, m: F.nll_loss(
        m.zeros(3, 4), m.tensor([0, 1, 1]), m.ones(4, requires_grad=True)), RuntimeError,
        "The function 'nll_loss_forward' is not differentiable with respect to argument 'weight'"),
    "nll_target_list": (lambda F, m: F.nll_loss(m.zeros(3, 4), [0, 1, 1]), TypeError,
                        r"argument 'target' \(position 2\) must be Tensor, not list"),
    "nll_integer_input": (lambda F, m: F.nll_loss(m.ones(3, 4).long(), m.tensor([0, 1, 1])),
                          NotImplementedError, "\"nll_loss_out_frame\" not implemented for 'Long'"),
    "ce_probs_integer_target": (lambda F, m: F.cross_entropy(m.zeros(3, 4), m.ones(3, 4).long()),
                                RuntimeError, "Expected floating point type for target with "
                                              "class probabilities, got Long"),
    "ce_probs_ignore_index": (lambda F, m: F.cross_entropy(m.zeros(3, 4), m.ones(3, 4),
                                                           ignore_index=1),
                              RuntimeError, "ignore_index is not supported for floating point "
                                            "target"),
    "ce_smoothing_above_1": (lambda F, m: F.cross_entropy(m.zeros(3, 4), m.tensor([0, 1, 1]),
                                                          label_smoothing=1.5),
                             RuntimeError, "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    "ce_probs_smoothing_above_1": (lambda F, m: F.cross_entropy(m.zeros(3, 4), m.ones(3, 4),
                                                                label_smoothing=1.5),
                                   RuntimeError, "label_smoothing must be between 0.0 and 1.0"),
    "ce_probs_weight_size": (lambda F, m: F.cross_entropy(m.zeros(3, 4), m.ones(3, 4),
                                                          m.ones(3)),
                             RuntimeError, r"cross_entropy: weight tensor should be defined "
                                           r"either for all 4 classes or no classes but got "
                                           r"weight tensor of shape: \[3\]"),
    "ce_float_indices": (lambda F, m: F.cross_entropy(m.zeros(3, 4), m.ones(3)), RuntimeError,
                         "expected target dtype to be Long or Byte, but got Double"),
    "ce_target_list": (lambda F, m: F.cross_entropy(m.zeros(3, 4), [0, 1, 1]), TypeError,
                       r"cross_entropy_loss\(\): argument 'target' \(position 2\) must be Tensor"),
    "ce_integer_input": (lambda F, m: F.cross_entropy(m.ones(3, 4).long(), m.tensor([0, 1, 1])),
                         NotImplementedError, "not implemented for 'Long'"),
    "bce_input_range": (lambda F, m: F.binary_cross_entropy(m.tensor([1.5]), m.tensor([0.5])),
                        RuntimeError, "all elements of input should be between 0 and 1"),
    "bce_input_nan": (lambda F, m: F.binary_cross_entropy(m.tensor([np.nan]), m.tensor([0.5])),
                      RuntimeError, "all elements of input should be between 0 and 1"),
    "bce_target_range": (lambda F, m: F.binary_cross_entropy(m.tensor([.5]), m.tensor([-1.])),
                         RuntimeError, "all elements of target should be between 0 and 1"),
    "bce_size": (lambda F, m: F.binary_cross_entropy(m.ones(3) / 2, m.ones(3, 1) / 2), ValueError,
                 r"Using a target size \((torch|symgrad)\.Size\(\[3, 1\]\)\) that is different to "
                 r"the input size \((torch|symgrad)\.Size\(\[3\]\)\) is deprecated"),
    "bce_weight_broadcast": (lambda F, m: F.binary_cross_entropy(m.ones(2, 3) / 2, m.ones(2, 3) / 2,
                                                                 m.ones(2)),
                             RuntimeError, r"Attempting to broadcast a dimension of length 2 at "
                                           r"-1! Mismatching argument at index 1 had "
                                           r"(torch|symgrad)\.Size\(\[2\]\); but expected shape "
                                           r"should be broadcastable to \[2, 3\]"),
    "bce_weight_too_big": (lambda F, m: F.binary_cross_entropy(m.ones(2, 3) / 2, m.ones(2, 3) / 2,
                                                               m.ones(4, 2, 3)),
                           RuntimeError, re.escape("output with shape [2, 3] doesn't match the "
                                                   "broadcast shape [4, 2, 3]")),
    "bce_weight_requires_grad": (lambda F, m: F.binary_cross_entropy(
        m.ones(2) / 2, m.ones(2) / 2, m.ones(2, requires_grad=True)), RuntimeError,
        "The function 'binary_cross_entropy' is not differentiable with respect to argument "
        "'weight'. This input cannot have requires_grad True."),
    "bce_integer_input": (lambda F, m: F.binary_cross_entropy(m.ones(2).long(), m.ones(2).long()),
                          NotImplementedError,
                          "\"binary_cross_entropy\" not implemented for 'Long'"),
    "bce_integer_target": (lambda F, m: F.binary_cross_entropy(m.ones(2) / 2, m.ones(2).long()),
                           RuntimeError, "Found dtype Long but expected Double"),
    "bce_reduction": (lambda F, m: F.binary_cross_entropy(m.ones(2) / 2, m.ones(2) / 2,
                                                          reduction="x"),
                      ValueError, "x is not a valid value for reduction"),
    "smooth_l1_negative_beta": (lambda F, m: F.smooth_l1_loss(m.ones(2), m.ones(2), beta=-1.0),
                                RuntimeError, "smooth_l1_loss does not support negative values "
                                              "for beta."),
    "smooth_l1_integer": (lambda F, m: F.smooth_l1_loss(m.ones(2).long(), m.ones(2).long()),
                          NotImplementedError, "\"smooth_l1_cpu\" not implemented for 'Long'"),
    "huber_delta_0": (lambda F, m: F.huber_loss(m.ones(2), m.ones(2), delta=0.0), RuntimeError,
                      "huber_loss does not support non-positive values for delta."),
    "l1_weight_shape": (lambda F, m: F.l1_loss(m.ones(2, 3), m.ones(2, 3), weight=m.ones(3)),
                        ValueError, "Weights and input must have the same size."),
    "l1_weight_reduction": (lambda F, m: F.l1_loss(m.ones(2), m.ones(2), reduction="x",
                                                   weight=m.ones(2)),
                            ValueError, "Invalid reduction mode: x. Expected one of 'none', "
                                        "'mean', 'sum'."),
    "l1_integer_mean": (lambda F, m: F.l1_loss(m.ones(2).long(), m.zeros(2).long()),
                        RuntimeError, "mean\\(\\): could not infer output dtype"),
    "kl_div_integral": (lambda F, m: F.kl_div(m.ones(2).long(), m.ones(2), reduction="sum"),
                        RuntimeError, "kl_div: Integral inputs not supported."),
    "kl_div_reduction": (lambda F, m: F.kl_div(m.ones(2), m.ones(2), reduction="avg"),
                         ValueError, "avg is not a valid value for reduction"),
    "linear_0d_input": (lambda F, m: F.linear(m.tensor(1.), m.ones(5, 4), m.ones(5)),
                        RuntimeError, "both arguments to linear need to be at least 1D, but they "
                                      "are 0D and 2D"),
    "linear_shapes": (lambda F, m: F.linear(m.ones(3, 3), m.ones(5, 4), m.ones(5)), RuntimeError,
                      re.escape("mat1 and mat2 shapes cannot be multiplied (3x3 and 4x5)")),
    "linear_shapes_no_bias": (lambda F, m: F.linear(m.ones(3, 3), m.ones(5, 4)), RuntimeError,
                              re.escape("mat1 and mat2 shapes cannot be multiplied (3x3 and 4x5)")),
    "linear_shapes_1d": (lambda F, m: F.linear(m.ones(3), m.ones(5, 4)), RuntimeError,
                         re.escape("mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)")),
    "linear_shapes_3d": (lambda F, m: F.linear(m.ones(2, 3, 3), m.ones(5, 4), m.ones(5)),
                         RuntimeError,
                         re.escape("mat1 and mat2 shapes cannot be multiplied (6x3 and 4x5)")),
    "linear_bias_size": (lambda F, m: F.linear(m.ones(3, 4), m.ones(5, 4), m.ones(4)),
                         RuntimeError, re.escape(
                             "The expanded size of the tensor (5) must match the existing size "
                             "(4) at non-singleton dimension 1.  Target sizes: [3, 5].  Tensor "
                             "sizes: [4]")),
    "linear_bias_size_3d": (lambda F, m: F.linear(m.ones(2, 3, 4), m.ones(5, 4), m.ones(4)),
                            RuntimeError, re.escape("Target sizes: [6, 5].  Tensor sizes: [4]")),
    "linear_3d_weight": (lambda F, m: F.linear(m.ones(3, 4), m.ones(2, 5, 4)), RuntimeError,
                         "t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"),
    "linear_vector_weight_bias": (lambda F, m: F.linear(m.ones(3, 4), m.ones(4), m.ones(3)),
                                  RuntimeError, "mat2 must be a matrix, got 1-D tensor"),
    "linear_vector_weight_size": (lambda F, m: F.linear(m.ones(3, 4), m.ones(3)), RuntimeError,
                                  re.escape("size mismatch, got input (3), mat (3x4), vec (3)")),
    "linear_bias_too_big": (lambda F, m: F.linear(m.ones(4), m.ones(5, 4), m.ones(2, 5)),
                            RuntimeError, re.escape("output with shape [5] doesn't match the "
                                                    "broadcast shape [2, 5]")),
    "linear_integer_input": (lambda F, m: F.linear(m.ones(3, 4).long(), m.ones(5, 4), m.ones(5)),
                             RuntimeError, "mat1 and mat2 must have the same dtype, but got Long "
                                           "and Double"),
    "addmm_vector": (lambda F, m: m.addmm(m.ones(5), m.ones(4), m.ones(4, 5)), RuntimeError,
                     "mat1 must be a matrix, got 1-D tensor"),
    "addmm_input_dims": (lambda F, m: m.addmm(m.ones(2, 3, 5), m.ones(3, 4), m.ones(4, 5)),
                         RuntimeError, r"the number of sizes provided \(2\) must be greater or "
                                       r"equal to the number of dimensions in the tensor \(3\)"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_pytorch(torch, name):
    import torch.nn.functional as TF

    fn, exc, message = ERRORS[name]
    with pytest.raises(exc, match=message):
        fn(TF, torch)
    with pytest.raises(exc, match=message):
        fn(SF, sg)
