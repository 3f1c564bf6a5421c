"""Against PyTorch itself (float64), where it is installed: values, gradients, names."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import symgrad as sg  # noqa: E402

torch.set_default_dtype(torch.float64)

PROGRAMS = {
    "tutorial": (lambda m, F, w, b: F.binary_cross_entropy_with_logits(
        m.matmul(m.ones(5), w) + b, m.zeros(3)), [(5, 3), (3,)]),
    "broadcast_arith": (lambda m, F, a, b: ((a + 2 * b) * (a - b) / (b * b + 1)).sum(),
                        [(2, 3), (3,)]),
    "rsub_pow": (lambda m, F, a, b: (2 - a ** 2 + 3 ** b - (a.abs() + 1) ** b).sum(),
                 [(2, 3), (1, 3)]),
    "matmul_batched": (lambda m, F, a, b: m.matmul(a, b).tanh().sum(), [(4, 2, 3), (3, 5)]),
    "vec_mat": (lambda m, F, a, b: m.matmul(a, b).sigmoid().mean(), [(3,), (2, 3, 4)]),
    "reductions": (lambda m, F, a, b: (a.sum(0) * b).mean() + a.mean(1, keepdim=True).exp()
                   .sum(), [(2, 3), (3,)]),
    "shapes": (lambda m, F, a, b: (a.reshape(3, 2).t() @ b.view(3, 1)).relu().sum()
               + a.T.sum() * a.transpose(0, 1)[1, 0], [(2, 3), (3,)]),
    "bce_options": (lambda m, F, a, b: F.binary_cross_entropy_with_logits(
        a, b.sigmoid(), weight=m.ones(3) * 0.5, pos_weight=m.ones(3) * 2.0, reduction="sum"),
        [(2, 3), (2, 3)]),
    "mse": (lambda m, F, a, b: F.mse_loss(a, b) + F.mse_loss(a.exp(), b, reduction="sum"),
            [(4,), (4,)]),
    "remainder": (lambda m, F, a, b: (a % 0.75 * a + (a * 3) % (b.abs() + 0.5)).sum(),
                  [(2, 3), (3,)]),
    "indexing": (lambda m, F, a, b: (a[0] * b[1:] ).sum() + a[:, 1].exp().sum()
                 + a[m.tensor([0, 1, 1])].sum(), [(2, 3), (4,)]),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_values_gradients_and_names_match_pytorch(name):
    f, shapes = PROGRAMS[name]
    rng = np.random.default_rng(0)
    data = [rng.standard_normal(s) for s in shapes]
    ours = [sg.tensor(d, requires_grad=True) for d in data]
    theirs = [torch.tensor(d, requires_grad=True) for d in data]
    out_s = f(sg, sg.nn.functional, *ours)
    out_t = f(torch, torch.nn.functional, *theirs)
    assert out_s.grad_fn.name() == out_t.grad_fn.name()
    np.testing.assert_allclose(out_s.item(), out_t.item(), rtol=1e-12, atol=1e-14)
    out_s.backward()
    out_t.backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_tutorial_prints_like_pytorch():
    inp_t = torch.eye(5, requires_grad=True)
    inp_s = sg.eye(5, requires_grad=True)
    assert repr((inp_s + 1).pow(2)) == repr((inp_t + 1).pow(2))
    (inp_t + 1).pow(2).backward(torch.ones_like(inp_t))
    (inp_s + 1).pow(2).backward(sg.ones_like(inp_s))
    assert repr(inp_s.grad) == repr(inp_t.grad)


def test_error_types_match_pytorch():
    for fn in (lambda m: m.ones(2, 3) @ m.ones(2, 3),
               lambda m: m.ones(2, 3) + m.ones(2, 4),
               lambda m: (m.ones(2, requires_grad=True) * 2).backward(),
               lambda m: m.ones(2).sum().backward(),
               lambda m: m.tensor([1, 2]).requires_grad_()):
        with pytest.raises(RuntimeError):
            fn(torch)
        with pytest.raises(RuntimeError):
            fn(sg)
