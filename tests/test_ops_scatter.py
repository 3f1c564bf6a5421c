"""scatter where an index repeats: one write per position, never a sum of writes."""

import numpy as np

import symgrad as sg
from symgrad import verify


def test_a_repeated_scatter_index_keeps_the_last_write():
    # PyTorch's CPU loop writes in row-major order, so the last write wins; summing the
    # writes gave 2 at position 1 for a value of 1.
    assert sg.zeros(5).scatter_(0, sg.tensor([1, 1, 3]), 1.0).tolist() == [0, 1, 0, 1, 0]
    got = sg.zeros(5).scatter(0, sg.tensor([1, 1, 3]), sg.tensor([2.0, 7.0, 5.0]))
    assert got.tolist() == [0, 7, 0, 5, 0]


def test_an_overwritten_scatter_write_gets_no_gradient():
    src = sg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    x = sg.zeros(3, 3, requires_grad=True)
    idx = sg.tensor([[0, 1, 2], [0, 1, 1]])     # (1, 1) is written twice, (0, 0) too
    y = x.scatter(0, idx, src)
    assert np.array_equal(y.detach().numpy(), [[4, 0, 0], [0, 5, 6], [0, 0, 3]])
    (y * sg.arange(9.0).reshape(3, 3)).sum().backward()
    assert np.array_equal(src.grad.numpy(), [[0, 0, 8], [0, 4, 5]])
    assert np.array_equal(x.grad.numpy(), [[0, 1, 2], [3, 0, 0], [6, 7, 0]])
    rep = verify.check(lambda a, b: (a.scatter(0, idx, b) ** 2).sum(),
                       sg.tensor(np.ones((3, 3))), sg.tensor(src.detach().numpy()))
    assert rep.ok
