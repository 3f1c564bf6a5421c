"""Functions with no gradient: nonzero, unique, bincount, histc, searchsorted, bucketize
(symgrad.ops.discrete), logspace, tril/triu_indices (symgrad.grids), randperm, randint_like,
normal, bernoulli, multinomial (symgrad.sampling), finfo, iinfo, result_type, promote_types,
can_cast, is_floating_point, is_complex (symgrad._typeinfo), and torch.detach."""

import math

import numpy as np
import pytest

import symgrad as sg
from torch_parity import array

T = sg.tensor
NAN = float("nan")


def _same(a, b):
    """Both results (a tensor or a tuple of them) equal, dtype by dtype."""
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype.name == str(y.dtype).removeprefix("torch."), (x.dtype, y.dtype)
        np.testing.assert_array_equal(array(x), array(y))


U = np.array([3, 1, 2, 3, 1])
ROWS = np.array([[1, 2], [1, 2], [0, 5]])
DETERMINISTIC = {  # id -> f(m, tensor of data), data
    "nonzero": (lambda m, x: m.nonzero(x), np.array([[0, 1], [2, 0]])),
    "nonzero_tuple": (lambda m, x: x.nonzero(as_tuple=True), np.array([[0.0, 1.5], [2.0, 0.0]])),
    "nonzero_0d": (lambda m, x: m.nonzero(x), np.array(5)),
    "nonzero_0d_tuple": (lambda m, x: m.nonzero(x, as_tuple=True), np.array(5)),
    "unique": (lambda m, x: m.unique(x), U),
    "unique_all": (lambda m, x: x.unique(return_inverse=True, return_counts=True), U),
    "unique_2d": (lambda m, x: m.unique(x, return_inverse=True), U.reshape(1, 5)),
    "unique_dim": (lambda m, x: m.unique(x, dim=0, return_inverse=True, return_counts=True),
                   ROWS),
    "unique_nan": (lambda m, x: m.unique(x), np.array([1.0, NAN, NAN, 0.5])),
    "bincount": (lambda m, x: m.bincount(x), np.array([0, 1, 1, 3])),
    "bincount_weights": (lambda m, x: x.bincount(m.tensor([0.5, 1.0, 1.0, 2.0]), minlength=6),
                         np.array([0, 1, 1, 3])),
    "bincount_empty": (lambda m, x: m.bincount(x), np.zeros(0, dtype=np.int64)),
    "histc": (lambda m, x: m.histc(x, bins=4, min=0, max=3), np.array([1.0, 2.0, 1.0, 3.0, 5.0])),
    "histc_range": (lambda m, x: x.histc(bins=7), np.array([1.0, 2.5, 1.0, 4.0, -2.0])),
    "histc_point": (lambda m, x: m.histc(x, bins=3), np.array([2.0, 2.0])),
    "histc_float32": (lambda m, x: m.histc(x.float(), bins=5, min=-1, max=1),
                      np.random.default_rng(0).uniform(-1.2, 1.2, 50)),
    "searchsorted": (lambda m, x: m.searchsorted(x, m.tensor([3, 6, 9, 0])),
                     np.array([1, 3, 5, 7])),
    "searchsorted_right": (lambda m, x: m.searchsorted(x, m.tensor([3, 6]), right=True),
                           np.array([1, 3, 5, 7])),
    "searchsorted_side_int32": (lambda m, x: m.searchsorted(x, m.tensor([3]), side="right",
                                                            out_int32=True), np.array([1, 3])),
    "searchsorted_rows": (lambda m, x: m.searchsorted(x, m.tensor([[2, 4], [5, 0]])),
                          np.array([[1, 3], [2, 4]])),
    "searchsorted_scalar": (lambda m, x: m.searchsorted(x, 2), np.array([1, 3])),
    "searchsorted_sorter": (lambda m, x: m.searchsorted(x, m.tensor([4]), sorter=m.tensor(
        [1, 2, 0])), np.array([5, 1, 3])),
    "bucketize": (lambda m, x: m.bucketize(x, m.tensor([1, 3, 5, 7])),
                  np.array([[1, 6], [3, 9]])),
    "bucketize_right": (lambda m, x: m.bucketize(x, m.tensor([1.0, 3.0]), right=True),
                        np.array([1.0, 2.0, 3.0])),
}


@pytest.mark.parametrize("key", sorted(DETERMINISTIC))
def test_matches_pytorch(key, torch):
    f, data = DETERMINISTIC[key]
    _same(f(sg, sg.tensor(data)), f(torch, torch.tensor(data)))


@pytest.mark.parametrize("args", [(3, 3), (4, 3, 1), (3, 4, -1), (2, 5, 2), (0, 0), (3, 3, -5)])
def test_triangle_indices_match_pytorch(args, torch):
    _same(sg.tril_indices(*args), torch.tril_indices(*args))
    _same(sg.triu_indices(*args), torch.triu_indices(*args))


@pytest.mark.parametrize("args", [(0, 2, 3), (0, 2, 3, 2.0), (-1.5, 1, 5), (2, 0, 4, 3)])
def test_logspace_matches_pytorch(args, torch):
    np.testing.assert_allclose(sg.logspace(*args).numpy(), torch.logspace(*args).numpy(),
                               rtol=1e-15)
    _same(sg.logspace(0, 2, 3, dtype=sg.int64), torch.logspace(0, 2, 3, dtype=torch.int64))


def test_dtype_queries_match_pytorch(torch):
    pairs = [(sg.float16, torch.float16), (sg.float32, torch.float32),
             (sg.float64, torch.float64)]
    for s, t in pairs:
        a, b = sg.finfo(s), torch.finfo(t)
        for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
            assert getattr(a, name) == getattr(b, name), (s, name)
        assert a.dtype == b.dtype and repr(a) == repr(b)
    for s, t in [(sg.int8, torch.int8), (sg.uint8, torch.uint8), (sg.int64, torch.int64)]:
        a, b = sg.iinfo(s), torch.iinfo(t)
        assert (a.bits, a.min, a.max, a.dtype, repr(a)) == (b.bits, b.min, b.max, b.dtype,
                                                              repr(b))
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
             "float64"]
    for x in names:
        for y in names:
            sx, sy, tx, ty = (getattr(sg, x), getattr(sg, y), getattr(torch, x),
                              getattr(torch, y))
            assert sg.promote_types(sx, sy).name == str(torch.promote_types(tx, ty))[6:]
            assert sg.can_cast(sx, sy) == torch.can_cast(tx, ty), (x, y)


def test_result_type_matches_pytorch(torch):
    operands = [lambda m: m.tensor([1], dtype=m.int8), lambda m: m.tensor(1, dtype=m.int32),
                lambda m: m.tensor([1.0], dtype=m.float32), lambda m: m.tensor(2.0),
                lambda m: m.tensor([True]), lambda m: 1000, lambda m: 2.5, lambda m: True]
    for f in operands:
        for g in operands:
            got = sg.result_type(f(sg), g(sg)) if not (
                isinstance(f(sg), (int, float)) and isinstance(g(sg), (int, float))) else None
            if got is not None:
                assert got.name == str(torch.result_type(f(torch), g(torch)))[6:]
    assert sg.result_type(2, 3.5) == sg.float64 and sg.result_type(True, 2) == sg.int64


# ---------------------------------------------------------------- without PyTorch
def test_values_and_errors():
    assert sg.nonzero(T([[0, 1], [2, 0]])).tolist() == [[0, 1], [1, 0]]
    values, inverse, counts = sg.unique(T([3, 1, 2, 3, 1]), return_inverse=True,
                                        return_counts=True)
    assert (values.tolist(), inverse.tolist(), counts.tolist()) == ([1, 2, 3], [2, 0, 1, 2, 0],
                                                                    [2, 1, 2])
    assert sg.histc(T([2.0, 2.0]), bins=3).tolist() == [0.0, 2.0, 0.0]
    assert sg.bucketize(T([1, 6]), T([1, 3, 5, 7]), right=True).tolist() == [1, 3]
    with pytest.raises(RuntimeError, match="non-negative integral"):
        sg.bincount(T([-1]))
    with pytest.raises(RuntimeError, match="non-negative integral"):
        sg.bincount(T([[1]]))
    with pytest.raises(NotImplementedError, match="histogram_cpu"):
        sg.histc(T([1, 2]))
    with pytest.raises(RuntimeError, match="max must be larger than min"):
        sg.histc(T([1.0]), min=2, max=1)
    with pytest.raises(RuntimeError, match="side and right"):
        sg.searchsorted(T([1, 2]), T([1]), right=True, side="left")
    with pytest.raises(RuntimeError, match="must match"):
        sg.searchsorted(T([[1, 2]]), T([[1], [2]]))
    with pytest.raises(TypeError, match="requires a floating point"):
        sg.finfo(sg.int32)
    with pytest.raises(TypeError, match="requires an integer"):
        sg.iinfo(sg.float32)
    with pytest.raises(TypeError, match="must be Tensor"):
        sg.is_floating_point(1.0)
    assert sg.is_floating_point(T([1.0])) and not sg.is_complex(T([1.0]))
    assert not T([1.0]).is_complex()
    x = T([1.0], requires_grad=True)
    d = sg.detach(x * 2)
    assert not d.requires_grad and d.tolist() == [2.0]


def test_sampling_is_reproducible_and_uses_the_generator():
    draws = []
    for _ in range(2):
        sg.manual_seed(7)
        draws.append([sg.randperm(6).tolist(), sg.normal(T([0.0, 10.0]), 1.0).tolist(),
                      sg.bernoulli(T([0.5, 0.5, 0.5])).tolist(),
                      sg.multinomial(T([1.0, 2.0, 3.0]), 2).tolist(),
                      sg.randint_like(sg.ones(3), 4).tolist()])
    assert draws[0] == draws[1]
    sg.manual_seed(8)
    assert sg.randperm(20).tolist() != draws[0][0] + list(range(6, 20))


def test_sampling_values():
    sg.manual_seed(0)
    assert sorted(sg.randperm(10).tolist()) == list(range(10))
    assert sg.randperm(3, dtype=sg.float64).dtype == sg.float64
    r = sg.randint_like(sg.ones(2, 3, dtype=sg.int32), 2, 5)
    assert r.dtype == sg.int32 and r.shape == (2, 3) and 2 <= r.min().item() <= r.max().item() < 5
    n = sg.normal(3.0, 2.0, size=(20000,))
    assert abs(n.mean().item() - 3.0) < 0.05 and abs(n.std().item() - 2.0) < 0.05
    assert sg.normal(T([0.0, 100.0]), T([[0.0], [0.0]])).tolist() == [[0.0, 100.0]] * 2
    b = sg.bernoulli(sg.full((20000,), 0.3))
    assert abs(b.mean().item() - 0.3) < 0.02 and set(b.tolist()) <= {0.0, 1.0}
    assert sg.bernoulli(T([0.0, 1.0])).tolist() == [0.0, 1.0]
    assert sg.ones(4).bernoulli(0.0).tolist() == [0.0] * 4
    w = T([[0.0, 1.0, 3.0], [1.0, 0.0, 0.0]])
    picks = sg.multinomial(w, 3)
    assert [sorted(row) for row in picks.tolist()] == [[0, 1, 2]] * 2
    assert picks.tolist()[0][2] == 0 and picks.tolist()[1][0] == 0   # zero weights last
    counts = np.bincount(sg.multinomial(T([1.0, 3.0]), 20000, replacement=True).numpy())
    assert abs(counts[1] / 20000 - 0.75) < 0.02


def test_sampling_errors():
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        sg.normal(sg.zeros(2), T([-1.0, 1.0]))
    with pytest.raises(TypeError, match="size"):
        sg.normal(0.0, 1.0)
    with pytest.raises(RuntimeError, match="p_in >= 0"):
        sg.bernoulli(T([1.5]))
    with pytest.raises(RuntimeError, match="without replacement"):
        sg.multinomial(T([1.0, 2.0]), 3)
    with pytest.raises(RuntimeError, match="element < 0"):
        sg.multinomial(T([-1.0, 1.0]), 1)
    with pytest.raises(RuntimeError, match="sum of probabilities"):
        sg.multinomial(T([0.0, 0.0]), 1)
    with pytest.raises(RuntimeError, match="1 or 2 dim"):
        sg.multinomial(sg.ones(2, 2, 2), 1)
    with pytest.raises(RuntimeError, match="floating-point"):
        sg.multinomial(T([1, 2]), 1)
    assert not math.isnan(sg.normal(0.0, 0.0, size=(1,)).item())
