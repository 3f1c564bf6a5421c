"""Functions built from other ops (and predicates): values and gradients as PyTorch gives
them, and exact against the mirror."""

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify

torch = pytest.importorskip("torch")

R = np.random.default_rng(7)
A = R.standard_normal((3, 4))
B = R.standard_normal((3, 4))
C = R.uniform(0.5, 2.0, (3, 4))
P = R.uniform(0.05, 0.95, (3, 4))
SQ = R.standard_normal((4, 4))
V = R.standard_normal(3)

# name: (program over a module m (symgrad or torch), inputs); programs return a scalar
PROGRAMS = {
    "cumsum": (lambda m, a: (m.cumsum(a, 1) * m.cumsum(a, 0)).sum(), [A]),
    "cumsum_method": (lambda m, a: a.cumsum(-1).exp().sum(), [A]),
    "addcmul": (lambda m, a, b, c: m.addcmul(a, b, c, value=0.5).sum(), [A, B, C]),
    "addcdiv": (lambda m, a, b, c: m.addcdiv(a, b, c, value=-2).pow(2).sum(), [A, B, C]),
    "lerp": (lambda m, a, b, c: m.lerp(a, b, c / 3).pow(2).sum(), [A, B, C]),
    "logaddexp": (lambda m, a, b: m.logaddexp(a * 300, b).sum(), [A, B]),
    "exp2": (lambda m, a: m.exp2(a).sum(), [A]),
    "hypot": (lambda m, a, b: m.hypot(a, b).sum(), [A, B]),
    "logit": (lambda m, p: m.logit(p).sum() + m.logit(p, eps=0.1).sum(), [P]),
    "frac": (lambda m, a: (m.frac(a * 3) * a).sum(), [A]),
    "tril_triu": (lambda m, s: (m.tril(s, -1) * 2 + m.triu(s, 1) ** 2).sum(), [SQ]),
    "diagonal": (lambda m, s: (m.diagonal(s, 1) * 3).sum() + m.diagonal(s, -2).exp().sum(),
                 [SQ]),
    "diagonal_3d": (lambda m, a: m.diagonal(a.reshape(3, 2, 2), 0, 1, 2).pow(2).sum(), [A]),
    "diag": (lambda m, v: (m.diag(v, 1) @ m.ones(4, dtype=m.float64)).pow(2).sum(), [V]),
    "trace": (lambda m, s: m.trace(s * s), [SQ]),
    "sort": (lambda m, a: (m.sort(a, 1, descending=True).values * m.arange(4.0)).sum(), [A]),
    "topk": (lambda m, a: (m.topk(a, 2, dim=0).values ** 2).sum(), [A]),
    "masked_select": (lambda m, a: m.masked_select(a, a > 0).exp().sum(), [A]),
    "nan_to_num": (lambda m, a: m.nan_to_num(a.log()).sum(), [A]),
    "hstack_vstack": (lambda m, a, b: (m.hstack([a, b]).sum(0) ** 2).sum()
                      + (m.vstack([a[0], b[1]]) ** 3).sum(), [A, B]),
    "tile": (lambda m, a: (m.tile(a, (2, 1, 2)) ** 2).sum(), [A]),
    "repeat_interleave": (lambda m, a: (m.repeat_interleave(a, m.tensor([1, 0, 3]), dim=0)
                                        .exp()).sum(), [A]),
    "scatter_add": (lambda m, a, b: (m.scatter_add(a, 0, m.tensor([[0, 1, 2, 0], [2, 0, 1, 1]]),
                                                   b[:2]) ** 2).sum(), [A, B]),
    "scatter": (lambda m, a, b: (m.scatter(a, 0, m.tensor([[0, 1, 2, 0]]), b[:1]) ** 2).sum(),
                [A, B]),
    "index_add": (lambda m, a, b: (m.index_add(a, 0, m.tensor([2, 0]), b[:2], alpha=2) ** 2)
                  .sum(), [A, B]),
    "var_mean": (lambda m, a: (m.var_mean(a, 1)[0] * m.std_mean(a, 0)[1].sum()).sum(), [A]),
    "meshgrid": (lambda m, u: sum((g * (k + 1)).sin().sum() for k, g in enumerate(
        m.meshgrid(u, u[:2], indexing="xy"))), [V]),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_values_and_gradients_match_pytorch(name):
    f, arrays = PROGRAMS[name]
    ours = [sg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_s, out_t = f(sg, *ours), f(torch, *theirs)
    np.testing.assert_allclose(out_s.item(), out_t.item(), rtol=1e-13)
    out_s.backward()
    out_t.backward()
    for s, t in zip(ours, theirs):
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_exact_against_the_mirror(name):
    f, arrays = PROGRAMS[name]
    assert verify.check(lambda *xs: f(sg, *xs), *[sg.tensor(a) for a in arrays]).ok


def test_predicates_and_indices_match_pytorch():
    x = np.array([[1.0, np.nan, -np.inf], [0.0, 2.0, np.inf]])
    for name in ["isnan", "isinf", "isfinite", "isposinf", "isneginf"]:
        np.testing.assert_array_equal(getattr(sg, name)(sg.tensor(x)).numpy(),
                                      getattr(torch, name)(torch.tensor(x)).numpy())
    y = np.array([[3.0, 1.0, 3.0, np.nan], [2.0, 2.0, -1.0, 0.0]])
    for desc in (False, True):
        s, t = sg.sort(sg.tensor(y), 1, descending=desc), torch.sort(
            torch.tensor(y), dim=1, descending=desc, stable=True)
        np.testing.assert_array_equal(s.indices.numpy(), t.indices.numpy())
        np.testing.assert_array_equal(sg.argsort(sg.tensor(y), descending=desc).numpy(),
                                      torch.argsort(torch.tensor(y), descending=desc,
                                                    stable=True).numpy())
    b = np.array([[1, 0, 2], [0, 0, 3]])
    assert sg.all(sg.tensor(b)).item() is False and sg.any(sg.tensor(b)).item() is True
    np.testing.assert_array_equal(sg.all(sg.tensor(b), 1).numpy(),
                                  torch.all(torch.tensor(b), 1).numpy())
    np.testing.assert_array_equal(sg.count_nonzero(sg.tensor(b), dim=0).numpy(),
                                  torch.count_nonzero(torch.tensor(b), dim=0).numpy())
    assert sg.allclose(sg.tensor([1.0, 2.0]), sg.tensor([1.0, 2.0 + 1e-9]))
    assert not sg.equal(sg.tensor([1.0, 2.0]), sg.tensor([1.0, 2.0 + 1e-9]))
    assert sg.tensor([1, 2]).type_as(sg.tensor([1.0])).dtype == sg.float64
    with pytest.raises(RuntimeError, match="out of range"):
        sg.topk(sg.tensor([1.0, 2.0]), 3)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        sg.tril(sg.tensor([1.0, 2.0]))


def test_in_place_variants():
    x = sg.tensor([-4.0, 9.0], requires_grad=True)
    y = x * 1
    y.abs_().sqrt_()
    y.masked_fill_(sg.tensor([False, True]), 0.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-0.25, 0.0])
