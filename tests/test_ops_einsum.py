"""einsum: values, gradients and second derivatives as PyTorch's; exact against SymPy."""

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify

EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,ij->", [(2, 3), (2, 3)]), ("ij->j", [(2, 3)]),
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iij->j", [(2, 2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]),
    ("i,j->ij", [(3,), (4,)]), ("ij,k->jk", [(2, 3), (4,)]), ("ijk->kji", [(2, 3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]), ("bi,bi->b", [(1, 3), (4, 3)]),
]


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("eq, shapes", EQUATIONS)
def test_exact_against_the_mirror(eq, shapes):
    arrays = _inputs(shapes)
    w = np.random.default_rng(1).standard_normal(np.einsum(eq, *arrays).shape)
    r = verify.check(lambda *xs: (sg.einsum(eq, *xs) * sg.tensor(w)).sum(),
                     *[sg.tensor(a) for a in arrays])
    assert r.ok, r.table()


@pytest.mark.parametrize("eq, shapes", EQUATIONS)
def test_values_first_and_second_derivatives_match_pytorch(eq, shapes):
    torch = pytest.importorskip("torch")
    arrays = _inputs(shapes)
    ours = [sg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    o, t = sg.einsum(eq, *ours), torch.einsum(eq, *theirs)
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-13)
    gs = sg.autograd.grad((o * o).sum(), ours, create_graph=True)
    gt = torch.autograd.grad((t * t).sum(), theirs, create_graph=True)
    sum(g.pow(2).sum() for g in gs).backward()
    sum(g.pow(2).sum() for g in gt).backward()
    for a, b in zip(gs, gt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-11, atol=1e-13)


def test_operand_list_and_bad_equations():
    a, b = sg.randn(2, 3), sg.randn(3)
    np.testing.assert_allclose(sg.einsum("ij,j->i", [a, b]).numpy(), (a @ b).numpy())
    with pytest.raises(RuntimeError, match="does not match the number of dimensions"):
        sg.einsum("ijk,j->i", a, b)
    with pytest.raises(RuntimeError, match="invalid subscript"):
        sg.einsum("i1,j->i", a, b)
    with pytest.raises(RuntimeError, match="subscript"):
        sg.einsum("ij,j->i", a, sg.randn(4))
