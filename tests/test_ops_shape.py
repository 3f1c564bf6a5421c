"""Shape and indexing ops against their rules, their mirrors and PyTorch itself.

The PyTorch tables evaluate the same expression text with ``m`` bound to symgrad or to
torch and compare values, gradients, the chain of grad_fn names PyTorch records, and
errors (type, and message where symgrad words it as PyTorch does).
"""

import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.ops import OPS
from symgrad.ops import shape as S
from symgrad.verify.rules import check_rules

SHAPE_RECORDS = ["reshape", "transpose", "permute", "expand", "squeeze", "unsqueeze", "index",
                 "masked_fill", "repeat", "flip", "roll", "cat", "stack", "clone"]


# ================================================================ rules and mirrors
@pytest.mark.parametrize("name", SHAPE_RECORDS)
def test_rule_proved_against_mirror(name):
    (res,) = check_rules([name], points=4)
    assert res.verdict in ("proved", "agree"), res.detail


def test_a_wrong_rule_is_caught():
    op = OPS["index"]
    good = op.vjp

    def overwrite(xp, g, ans, x, *, index, in_shape):   # forgets that repeats accumulate
        out = np.zeros(in_shape, dtype=int).astype(object)
        out[index] = g
        return out

    try:
        op.vjp = (overwrite,)
        (res,) = check_rules(["index"], points=4)
    finally:
        op.vjp = good
    assert res.verdict == "MISMATCH" and "argument x" in res.detail


VERIFY_CASES = {
    "select_slice": lambda x: (x[1] ** 2).sum() + x[:, 1:, ::2].exp().sum() + x[0, 1, 1],
    "advanced_repeats": lambda x: (x[[0, 0, 1]] ** 3).sum() + x[x > 0].tanh().sum(),
    "mixed_index": lambda x: (x[1, :, [0, 0]] * x[None, 0, ..., 1:]).sum(),
    "split_unbind": lambda x: sum((p * (i + 1) ** 2).sum() for i, p in enumerate(x.split(1, 1)))
    + (x.unbind(0)[1] * x.chunk(2)[0]).sum(),
    "gather_index_select": lambda x: (x.gather(1, sg.tensor([[[0], [0]], [[1], [0]]])) ** 2).sum()
    + x.index_select(2, sg.tensor([1, 1])).exp().sum(),
    "fill_tile_reorder": lambda x: (x.masked_fill(x > 0.5, 2.0) ** 2).sum()
    + (x.repeat(2, 1, 1).flip(0, 2).roll((1, -1), (1, 2)) * sg.arange(16.).reshape(4, 2, 2)
       ).sum(),
}


@pytest.mark.parametrize("name", sorted(VERIFY_CASES))
def test_verify_check_agrees(name):
    x = sg.tensor(np.random.default_rng(1).uniform(-1, 1, (2, 2, 2)))
    rep = verify.check(VERIFY_CASES[name], x)
    assert rep.ok, rep.table()


def test_second_order_through_shape_ops():
    """create_graph=True runs these rules on Tensors: the Hessian must agree too."""
    x = sg.tensor(np.random.default_rng(2).uniform(-1, 1, (2, 3)))

    def f(x):
        return ((x.repeat(2, 1)[1:, ::2] ** 2).sum()
                + (x.gather(1, sg.tensor([[0, 0], [2, 1]])) ** 3).sum()
                + (x.index_select(1, sg.tensor([2, 2])) * x[:, :2]).sum()
                + sum((p ** 2 * (i + 1)).sum() for i, p in enumerate(x.split(2, 1)))
                + (sg.cat([x, x[:1]]) ** 2).sum() + (x.t().reshape(-1)[1:] ** 3).sum()
                + (x.unbind(1)[2] * x.chunk(2, 1)[0].squeeze(1)).sum()
                + (x.narrow(1, 1, 2).movedim(0, 1) ** 2).sum() + (x[x > 0] ** 2).sum()
                + (sg.stack([x, x ** 2]).flip(0).roll(1, 2) ** 2 * sg.arange(12.).reshape(
                    2, 2, 3)).sum() + (x[1, [0, 0]] * x[None, 0, 1:]).sum())

    rep = verify.check(f, x, order=2)
    assert rep.ok, rep.table()


# ================================================================ against PyTorch
def _torch():
    """PyTorch in float64, or skip the test where it is not installed."""
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    return torch


RNG = np.random.default_rng(0)
DATA = {"x": RNG.standard_normal((3, 4, 5)), "x0": np.array(0.75), "x1": np.array([-1.5]),
        "xe": np.zeros((0, 3)), "xs": RNG.standard_normal((3, 1, 2)),
        "x2": RNG.standard_normal((2, 3))}


def _env(m, requires_grad=True):
    def T(data, dtype=None):
        return m.tensor(data, dtype=getattr(m, dtype) if dtype else None)

    env = {n: m.tensor(d, requires_grad=requires_grad) for n, d in DATA.items()}
    env.update(m=m, T=T, np=np)
    return env


def _chain(t):
    """grad_fn names from the result back to the leaf (first input of each node)."""
    out, f = [], t.grad_fn
    while f is not None and "AccumulateGrad" not in f.name():
        out.append(f.name())
        f = f.next_functions[0][0] if f.next_functions else None
    return out


def _eval(m, expr):
    env = _env(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = eval(expr, env)  # noqa: S307 - the test's own table
    return env, out


def _compare(torch, expr, grads=True):
    es, out_s = _eval(sg, expr)
    et, out_t = _eval(torch, expr)
    outs_s = list(out_s) if isinstance(out_s, tuple) else [out_s]
    outs_t = list(out_t) if isinstance(out_t, tuple) else [out_t]
    assert type(out_s) is type(out_t) if isinstance(out_t, tuple) else True
    assert len(outs_s) == len(outs_t)
    loss_s, loss_t = 0, 0
    for k, (a, b) in enumerate(zip(outs_s, outs_t)):
        assert tuple(a.shape) == tuple(b.shape), (k, a.shape, b.shape)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert _chain(a) == _chain(b), (k, _chain(a), _chain(b))
        if grads and b.requires_grad:
            w = np.random.default_rng(k).standard_normal(tuple(b.shape))
            loss_s = loss_s + (a * sg.tensor(w)).sum()
            loss_t = loss_t + (b * torch.tensor(w)).sum()
    if grads and not isinstance(loss_t, int):
        loss_s.backward()
        loss_t.backward()
        for n in DATA:
            gs, gt = es[n].grad, et[n].grad
            assert (gs is None) == (gt is None), n
            if gt is not None:
                np.testing.assert_allclose(gs.numpy(), gt.numpy(), rtol=1e-14, atol=1e-15)


def _chunks(table: list, n: int = 24) -> list:
    """Table rows in groups (one pytest item each keeps the file fast)."""
    return [table[i:i + n] for i in range(0, len(table), n)]


def _each(check, rows, *first) -> None:
    """Run ``check(*first, *row)`` on every row; fail once, naming every row that failed."""
    failed = []
    for row in rows:
        try:
            check(*first, *row) if isinstance(row, tuple) else check(*first, row)
        except Exception as e:  # noqa: BLE001 - reported below, row by row
            failed.append(f"{row!r}: {type(e).__name__}: {e}")
    assert not failed, "\n".join(failed)


INDEX_EXPRS = [
    # integers, slices, None, Ellipsis (one node per step, as PyTorch records them)
    "x[0]", "x[-1]", "x[2, 3]", "x[0, 1, 2]", "x[-1, -1, -1]", "x[1:]", "x[::2]", "x[:, 1:3]",
    "x[:, ::3]", "x[..., 1::2]", "x[None]", "x[...]", "x[:]", "x[()]", "x[0, None]",
    "x[None, 0]", "x[..., 0]", "x[..., None]", "x[:, :, None]", "x[0, :]", "x[0, ...]",
    "x[1:2]", "x[:, None, 0]", "x[None, None]", "x[0:0]", "x[5:]", "x[3:1]", "x[-100:-50]",
    "x[1:-1]", "x[0, -100:]", "x[0, 0:100]", "x[(slice(0, 3),)]", "x[:, ::1]", "x[:, 0:4:2]",
    "x[0, ..., 1, ...]", "x[..., ...]", "x[None, ..., None]", "x[None, None, 0, 0, 0, None]",
    "x[np.int64(1)]", "x[T(1)]", "x[:, T(-1)]", "x[0][1][2]", "x[1:3][1:][0]",
    "x[slice(None, None, 2), 1]", "x[[slice(None), 0]]", "x[[None, 0]]", "x[[..., 0]]",
    # tensors, lists, masks and their mixtures (one IndexBackward0 at the end)
    "x[[0, 1]]", "x[[0, 0, 2]]", "x[T([0, 2])]", "x[x > 0]", "x[x[:, :, 0] > 0]",
    "x[:, x[0, :, 0] > 0]", "x[x[:, 0, 0] > 0, 1]", "x[x[:, :, 0] > 0, 1:3]",
    "x[x[:, :, 0] > 0, None]", "x[0, [1, 2]]", "x[:, [1, 1, 2]]", "x[[0, 1], [1, 2]]",
    "x[[0, 1], :, [1, 2]]", "x[1, :, [0, 2]]", "x[:, 1, [0, 2]]", "x[[0, 1], 1, [1, 2]]",
    "x[[0, 1], None, [1, 2]]", "x[None, [0, 1]]", "x[True]", "x[False]", "x[0, True]",
    "x[True, 0]", "x[:, True]", "x[True, True]", "x[T(True)]", "x[T(False)]",
    "x[[True, False, True]]", "x[[True, False, True], 0]", "x[T([[0, 1], [1, 2]])]",
    "x[[[0, 1], [1, 2]]]", "x[[[0, 1]]]", "x[[0, [1]]]", "x[[]]", "x[T([], dtype='int64')]",
    "x[[0, True]]", "x[T([-1, -3])]", "x[[1, 2], ..., [0, 1]]", "x[..., [0, 1], :]",
    "x[1::2, [0, 1]]", "x[[0, 0, 2], 1:, [1]]", "x[T([[0, 1]]), T([[0], [1]])]",
    "x[[0, 1], [[0], [1]]]", "x[T([0, 1], dtype='int32')]", "x[np.array([0, 2])]",
    "x[(np.array([0, 1]), np.array([1, 2]))]", "x[[T(0), T(1)]]", "x[[T([0, 1])]]",
    "x[[True, False, True], [True, True, False, False]]", "x[True, [[0], [1]]]",
    "x[:, :, [True, False, True, True, False]]", "x[[0.0]]", "x[T(1, dtype='uint8')]",
    # 0-d, size-1 and empty dimensions
    "x0[None]", "x0[...]", "x0[()]", "x0[True]", "x0[False]", "x0[None, ...]", "x0[..., None]",
    "x0[T(True)]", "x1[0]", "x1[-1]", "x1[[True]]", "x1[True]", "x1[[0, 0, 0]]", "x1[0:]",
    "xe[:, 0]", "xe[[]]", "xe[:, [0, 0]]", "xe[xe > 0]", "xe[..., 1:]", "xe[1:, None]",
    "xs[:, 0]", "xs[:, [0, 0]]", "xs[..., 0, :]", "xs[:, :, 1]", "xs[xs > 0]",
]


@pytest.mark.parametrize("rows", _chunks(INDEX_EXPRS), ids=lambda rows: rows[0])
def test_getitem_matches_pytorch(rows):
    _each(_compare, rows, _torch())


def test_getitem_on_integer_tensors():
    for expr in ["T([[1, 2], [3, 4]])[1]", "T([[1, 2], [3, 4]])[:, [1, 1]]",
                 "T([5, 6, 7])[T([True, False, True])]", "T([True, False])[1:]"]:
        a, b = _eval(sg, expr)[1], _eval(_torch(), expr)[1]
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]


FUNCTION_EXPRS = [
    "m.select(x, 1, 2)", "x.select(1, -1)", "x.select(0, T(1))", "x.narrow(1, 1, 2)",
    "x.narrow(1, -1, 1)", "x.narrow(0, T(1), 2)", "x.narrow(1, 4, 0)", "x.narrow(1, 0, 4)",
    "x.index_select(1, T([0, 0, 2]))", "x.index_select(-1, T([4]))", "x.index_select(1, T(2))",
    "x.index_select(1, T([], dtype='int64'))", "x0.index_select(0, T([0]))",
    "x.index_select(0, T([2, 0], dtype='int32'))",
    "x.gather(1, T([[[0, 1, 2, 3, 0]] * 2] * 3))", "x.gather(1, T([[[3, 3]] * 2] * 2))",
    "x.gather(-1, T([[[1]]]))", "x.gather(0, T([[[2, 2, 0]]]))", "x0.gather(0, T(0))",
    "x0.gather(0, T([0, 0]))", "x.gather(1, T(np.zeros((0, 2, 5), dtype=np.int64)))",
    "x.masked_fill(x > 0, 1.0)", "x.masked_fill(x[0] > 0, 1.0)",
    "x.masked_fill(T([True, False, True, False, True]), -2)", "x.masked_fill(x > 0, x0)",
    "x.masked_fill(T(np.ones((2, 3, 4, 5), bool)), 1.0)", "x.masked_fill(T(True), x0 * 2)",
    "x.masked_fill(x > 0, float('inf'))", "x2.masked_fill(x2 < 0, x1[0])",
    "x.repeat(2, 1, 1)", "x.repeat(1, 2, 3, 1, 1)", "x.repeat(0, 1, 1)", "x0.repeat(2, 3)",
    "x.repeat((2, 1, 1))", "x.repeat([1, 1, 1])", "x0.repeat(1)", "xe.repeat(2, 2)",
    "x.flip(0)", "x.flip((0, 1))", "x.flip([0, -1])", "x0.flip(0)", "x.flip(())", "x0.flip(())",
    "x.fliplr()", "x[0].flipud()", "m.flip(x, dims=(2,))", "xe.flip(0)",
    "x.roll(1)", "x.roll(1, 0)", "x.roll((1, -2), (0, 2))", "x.roll(-7, 1)", "x0.roll(1)",
    "xe.roll(1, 0)", "xe.roll(1)", "m.roll(x, shifts=1, dims=0)", "x.roll([1])",
    "x.movedim(0, 2)", "x.movedim((0, 1), (2, 0))", "x0.movedim(0, 0)", "x.moveaxis(0, 1)",
    "x.movedim(0, 0)", "x.swapaxes(0, 1)", "x.swapdims(-1, 0)", "x.transpose(0, 0)",
    "x0.transpose(0, 0)", "x0.t()", "x1.t()", "x[0].t()", "x.T", "x[0].T", "x1.T", "x0.T",
    "x[0].mT", "x.mT", "x.permute(2, 0, 1)", "x.permute((2, 0, 1))", "x.permute(-1, 0, 1)",
    "x.squeeze(0)", "xs.squeeze()", "xs.squeeze(1)", "xs.squeeze((1,))", "xs.squeeze([1, 2])",
    "x0.squeeze()", "x0.squeeze(0)", "x0.squeeze(-1)", "x0.squeeze((0,))", "x.squeeze(())",
    "x1.squeeze()", "x1.squeeze(0)", "xe.squeeze()", "xe.squeeze(0)", "xs.squeeze(dim=0)",
    "x.unsqueeze(3)", "x.unsqueeze(-1)", "x0.unsqueeze(0)", "x0.unsqueeze(-1)",
    "x.expand(-1, -1, -1)", "x.expand(2, -1, -1, -1)", "xs.expand(-1, 3, -1)",
    "x0.expand(2, 2)", "x1.expand(0)", "x1.expand(0, 1)", "x.expand(3, 4, 5)", "x0.expand(())",
    "x.broadcast_to((2, 3, 4, 5))", "xs.expand_as(m.ones(2, 3, 4, 2))",
    "x.reshape(-1)", "x.transpose(0, 1).reshape(-1)", "x.transpose(0, 1).reshape(4, 3, 5)",
    "x[:, ::2].reshape(3, 10)", "x[0].t().reshape(1, 5, 4)", "x.expand(2, 3, 4, 5).reshape(-1)",
    "x.view(2, -1)", "x.view((3, 20))", "x[0].t().view(5, 1, 4)", "x[:, 0:1].view(3, 5)",
    "x[:, :, 0].view(12)", "xe.view(3, -1)", "xe.view(-1)", "x0.view(1)", "x0.view(-1)",
    "x1.view(())", "x.view_as(m.ones(60))", "x.reshape_as(m.ones(6, 10))",
    "x.flatten()", "x.flatten(1, 1)", "x[0, 0].flatten()", "x.flatten(-2)", "x0.flatten()",
    "x[:, ::2].flatten()", "x.transpose(0, 1).flatten(1)", "x.transpose(1, 2).unflatten(1, (5, 1))",
    "x.unflatten(1, (2, -1))", "x.unflatten(-1, (5, 1, 1))",
    "x[:, [0, 1]].view(-1)", "x[:, :, [1, 2]].reshape(-1)", "x.flip(1).view(-1)",
    "x.roll(1, 2).view(-1)", "x.gather(2, T([[[0, 1]] * 4] * 3)).view(-1)",
    "x.index_select(1, T([0, 2])).view(-1)", "x[0].t().clone().reshape(-1)",
    "x[0].t().clone().t().view(-1)", "x[:, 0:1].reshape(15)", "x[:, :, :1].reshape(12)",
    "x[:, None].expand(3, 2, 4, 5).reshape(3, 2, 20)", "x[:, None].expand(3, 2, 4, 5).reshape(-1)",
    "m.cat([x, x], 1)", "m.cat([x, m.zeros(0)])", "m.cat([m.zeros(0), x])", "m.cat((x, x), -1)",
    "m.cat([x])", "m.cat([x[:1], x.float()[1:]])", "m.stack([x, x], 3)", "m.stack([x0, x0])",
    "m.stack([x, x], -1)", "m.stack([x])", "m.concat([x2, x2])", "x.clone()",
]


@pytest.mark.parametrize("rows", _chunks(FUNCTION_EXPRS), ids=lambda rows: rows[0])
def test_function_matches_pytorch(rows):
    _each(_compare, rows, _torch())


SPLIT_EXPRS = [
    "x.split(2)", "x.split(2, 1)", "x.split(4, 1)", "x.split(9, 1)", "x.split([1, 2])",
    "x.split([1, 1, 1, 0])", "x.split((2, 1))", "x.split([3, 0])", "x.split(T(2))",
    "xe.split(2)", "xe.split(0)", "xe.split([0])", "xe.split(1, 1)", "m.split(x, 2)",
    "m.split(x, split_size_or_sections=2, dim=1)", "x.split([1, 4], -1)",
    "x.chunk(2)", "x.chunk(3)", "x.chunk(4)", "x.chunk(5, 1)", "x.chunk(1)", "x.chunk(6, 2)",
    "x.chunk(4, 2)", "xe.chunk(2)", "m.chunk(x, chunks=2, dim=1)",
    "x.unbind()", "x.unbind(1)", "x.unbind(-1)", "xe.unbind()", "xe.unbind(1)", "x1.unbind()",
    "m.unbind(x, dim=2)",
    "x.tensor_split(2)", "x.tensor_split(4)", "x.tensor_split(5, 1)", "x.tensor_split([1, 2])",
    "x.tensor_split([2, 1])", "x.tensor_split([5])", "x.tensor_split((-1,))", "x.tensor_split([])",
    "x.tensor_split(T([1, 2]))", "x.tensor_split(T(2))", "x.tensor_split(1)",
    "m.tensor_split(x, sections=2)", "m.tensor_split(x, indices=[1], dim=2)",
]


@pytest.mark.parametrize("rows", _chunks(SPLIT_EXPRS), ids=lambda rows: rows[0])
def test_split_pieces_match_pytorch(rows):
    _each(_compare, rows, _torch())


ERROR_EXPRS = [
    # (expression, exception type, symgrad words the message as PyTorch does)
    ("x[3]", IndexError, True), ("x[0, 4]", IndexError, True), ("x[-4]", IndexError, True),
    ("x[::-1]", ValueError, True), ("x[:, ::-2]", ValueError, True), ("x[::0]", ValueError, True),
    ("x[0.5]", IndexError, True), ("x[(0.5,)]", IndexError, True),
    ("x[T([0.5])]", IndexError, True), ("x[T([0, 1], dtype='int8')]", IndexError, True),
    ("x[T([5])]", IndexError, True), ("x[[-4]]", IndexError, True),
    ("x[0, 0, 9]", IndexError, True), ("x[None, 5]", IndexError, True),
    ("x[0, None, 9]", IndexError, True), ("x[..., 9]", IndexError, True),
    ("x[:, :, :, 0]", IndexError, True), ("x[0, 0, 0, 0]", IndexError, True),
    ("x[[[0, 1], [0, 1], [0, 1], [0, 1]]]", IndexError, True),
    ("x0[0]", IndexError, True), ("x0[1]", IndexError, True),
    ("x0[(slice(None),)]", IndexError, True),
    ("x0[:]", IndexError, True), ("x0[[0]]", IndexError, True), ("x0[T(0)]", IndexError, True),
    ("x0[[True]]", IndexError, True), ("x[0, 0, 0][0]", IndexError, True),
    ("x[T([[True] * 5] * 4)]", IndexError, True), ("x[T([True] * 4)]", IndexError, True),
    ("x[[True, False]]", IndexError, True), ("x[T([0, 1]), T([0, 1, 2])]", IndexError, True),
    ("x[x[:, :, 0] > 0, [0, 1]]", IndexError, True), ("x[False, [0, 1]]", IndexError, True),
    ("x[0, :, [7]]", IndexError, True), ("x[[0], :, [7]]", IndexError, True),
    ("x[[1], [9]]", IndexError, True), ("x[..., [7]]", IndexError, True),
    ("xe[0]", IndexError, True), ("xe[:, 5]", IndexError, True),
    ("x[:, :, x[0] > 0]", IndexError, True), ("x[x[:2, :, 0] > 0]", IndexError, True),
    ("x.select(1, -5)", IndexError, True), ("x.select(3, 0)", IndexError, True),
    ("x0.select(0, 0)", IndexError, True), ("x.narrow(1, 3, 2)", RuntimeError, True),
    ("x.narrow(1, 5, 0)", IndexError, True), ("x.narrow(1, -5, 1)", IndexError, True),
    ("x.narrow(1, 0, -1)", RuntimeError, True), ("x0.narrow(0, 0, 1)", RuntimeError, True),
    ("x.index_select(1, T([[0]]))", IndexError, True), ("x.index_select(1, T([9]))", RuntimeError,
                                                         False),
    ("x.index_select(0, T([-1]))", IndexError, True),
    ("x.index_select(1, T([0.]))", RuntimeError, True),
    ("x.index_select(1, [0])", TypeError, False),
    ("x0.index_select(0, T([0, 0]))", RuntimeError, True),
    ("x.gather(1, T(np.zeros((4, 2, 5), np.int64)))", RuntimeError, True),
    ("x.gather(1, T(np.zeros((3, 2), np.int64)))", RuntimeError, True),
    ("x.gather(1, T(np.full((3, 2, 5), 7)))", RuntimeError, True),
    ("x.gather(1, T(np.full((3, 2, 5), -1)))", RuntimeError, True),
    ("x.gather(1, T(np.zeros((3, 2, 5))))", RuntimeError, True),
    ("x.masked_fill(T([1, 0, 1, 0, 1]), 1.0)", RuntimeError, False),
    ("x.masked_fill(x > 0, T([1.0]))", RuntimeError, True),
    ("x.masked_fill(T([True, False]), 1.0)", RuntimeError, False),
    ("x.masked_fill(True, 1.0)", TypeError, False),
    ("x.repeat(2)", RuntimeError, True), ("x.repeat(-1, 1, 1)", RuntimeError, True),
    ("x.repeat()", TypeError, True), ("x.repeat(T([2, 1, 1]))", TypeError, True),
    ("x.flip(0, 0)", RuntimeError, True), ("x.flip()", TypeError, True),
    ("x.flip(3)", IndexError, True), ("x[0, 0].fliplr()", RuntimeError, True),
    ("x[0, 0, 0].flipud()", RuntimeError, True),
    ("x.roll((1, 2), 0)", RuntimeError, True), ("x.roll(1, (0, 1))", RuntimeError, True),
    ("x0.roll(1, 0)", IndexError, True), ("x.roll(1, 5)", IndexError, True),
    ("x.roll((1, 2))", RuntimeError, True),
    ("x.movedim((0, 0), (1, 2))", RuntimeError, True), ("x.movedim((0, 1), (2, 2))", RuntimeError,
                                                        True),
    ("x.movedim((0, 1), (1,))", RuntimeError, True), ("x.movedim(5, 0)", IndexError, True),
    ("x.transpose(0, 3)", IndexError, True), ("x.t()", RuntimeError, True),
    ("x.permute(0, 1)", RuntimeError, True), ("x.permute(0, 0, 1)", RuntimeError, True),
    ("x.permute(0, 1, 3)", IndexError, True),
    ("xs.squeeze((1, 1))", RuntimeError, True), ("x.squeeze(3)", IndexError, True),
    ("x0.squeeze(1)", IndexError, True), ("x.unsqueeze(4)", IndexError, True),
    ("x.unsqueeze(-5)", IndexError, True), ("x0.unsqueeze(1)", IndexError, True),
    ("x.expand(-1, 3, 4, 5)", RuntimeError, True), ("x.expand(3, 4)", RuntimeError, False),
    ("x.expand(3, 4, 6)", RuntimeError, True), ("x.expand(2, 1, 4, 5)", RuntimeError, True),
    ("x.transpose(0, 1).view(-1)", RuntimeError, True), ("x[:, 0].view(15)", RuntimeError, True),
    ("x[0].t().clone().view(-1)", RuntimeError, True),
    ("x.expand(2, 3, 4, 5).view(6, 4, 5)", RuntimeError, True),
    ("x.view(-1, -1)", RuntimeError, True), ("x.view(-2, 30)", RuntimeError, True),
    ("x.view(7, -1)", RuntimeError, True), ("x.view(0, -1)", RuntimeError, True),
    ("xe.view(-1, 0)", RuntimeError, True), ("xe.reshape(0, -1)", RuntimeError, True),
    ("x.view(3, 20.0)", TypeError, False), ("x.flatten(2, 1)", RuntimeError, True),
    ("x.flatten(5)", IndexError, True), ("x.unflatten(1, (3, -1))", RuntimeError, True),
    ("x.unflatten(1, ())", RuntimeError, True),
    ("x.split(0)", RuntimeError, True), ("x.split(-1)", RuntimeError, True),
    ("x.split([1, 1])", RuntimeError, True), ("x.split([-1, 4])", RuntimeError, True),
    ("x.split([1, 2], dim=-1)", RuntimeError, True), ("x0.split(1)", RuntimeError, True),
    ("x.split(1, 5)", IndexError, True), ("x.chunk(0)", RuntimeError, True),
    ("x.chunk(-1)", RuntimeError, True), ("x0.chunk(1)", RuntimeError, True),
    ("x.chunk(2, 5)", IndexError, True), ("x0.unbind()", IndexError, True),
    ("x.unbind(3)", IndexError, True), ("x.tensor_split(0)", RuntimeError, True),
    ("x0.tensor_split(1)", RuntimeError, True), ("x.tensor_split(T([[1]]))", RuntimeError, True),
    ("m.cat([x, x[0]])", RuntimeError, True), ("m.cat([x, x], 3)", IndexError, True),
    ("m.cat([x0, x0])", RuntimeError, True), ("m.cat([])", ValueError, False),
    ("m.cat(x)", TypeError, False), ("m.cat([x, x[:, :2]])", RuntimeError, True),
    ("m.stack([x, x], 4)", IndexError, True), ("m.stack([])", RuntimeError, True),
    ("m.stack([x, x[0]])", RuntimeError, True),
]


def _same_error(torch, expr, exc, same_message):
    with pytest.raises(exc) as got_t:
        _eval(torch, expr)
    with pytest.raises(exc) as got_s:
        _eval(sg, expr)
    if same_message:
        assert str(got_s.value) == str(got_t.value)


@pytest.mark.parametrize("rows", _chunks(ERROR_EXPRS, 40), ids=lambda rows: rows[0][0])
def test_errors_match_pytorch(rows):
    _each(_same_error, rows, _torch())


class _Grab:
    """``_Grab()[...]`` is the index object Python builds for ``t[...]``."""

    def __getitem__(self, index):
        return index


def _numpy_reads_as_pytorch(torch, expr):
    name, inner = expr[:expr.index("[")], expr[expr.index("[") + 1:-1]
    env_s, env_t = _env(sg, False), _env(torch, False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idx = eval(f"_G[{inner}]", {**env_s, "_G": _Grab()})  # noqa: S307
        want = eval(expr, env_t).numpy()  # noqa: S307
    data = DATA[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np_index = S._norm_index(idx, data.shape)
        np.testing.assert_array_equal(data[np_index], want)
        target = np.zeros(data.shape)
        target[np_index] = np.arange(want.size).reshape(want.shape) + 1
        tt = torch.zeros(data.shape)
        tt[eval(f"_G[{inner}]", {**env_t, "_G": _Grab()})] = torch.arange(  # noqa: S307
            want.size, dtype=torch.float64).reshape(want.shape) + 1
    np.testing.assert_array_equal(target, tt.numpy())


def test_norm_index_with_shape_reads_and_writes_what_pytorch_does():
    """What inplace.index_put_ could pass to numpy (given the tensor's shape)."""
    rows = [e for e in INDEX_EXPRS if e.endswith("]") and "][" not in e and ".T" not in e
            and e[:e.index("[")] in DATA]
    _each(_numpy_reads_as_pytorch, rows, _torch())


def test_non_tuple_list_of_sequences_warns_like_pytorch():
    x = sg.ones(3, 4)
    with pytest.warns(UserWarning, match="tuple"):
        assert x[[[0, 1], [1, 2]]].shape == (2,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x[[0, 1]].shape == (2, 4)          # a plain list of ints is one index


def test_T_warns_off_matrices_as_pytorch():
    with pytest.warns(UserWarning, match="reverses all"):
        assert sg.ones(2, 3, 4).T.shape == (4, 3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sg.ones(2, 3).T.shape == (3, 2)


# ================================================================ views and copies
def test_basic_indexing_gives_views_and_advanced_copies():
    base = sg.arange(12.).reshape(3, 4)
    v = base[1]
    v.fill_(-1.0)                        # a view: writes through, as in PyTorch
    assert base[1, 2].item() == -1.0
    s = base[:, 0]
    s.zero_()
    assert base[2, 0].item() == 0.0
    c = base[[0, 0]]
    c.fill_(7.0)                         # advanced indexing copies
    assert base[0, 1].item() == 1.0
    assert base[[0]]._vc is not base._vc
    flipped = base.flip(0)
    flipped.fill_(3.0)
    assert base[0, 1].item() == 1.0
    r = base.repeat(1, 1)
    r.fill_(5.0)
    assert base[0, 1].item() == 1.0


def test_contiguous_copies_only_strided_tensors():
    x = sg.arange(6.).reshape(2, 3).requires_grad_()
    assert S.contiguous(x) is x
    y = S.contiguous(x.t())
    assert y.grad_fn.name() == "CloneBackward0" and y.is_contiguous()
    assert y.view(-1).shape == (6,)
    m = x.t().contiguous()               # the method, as PyTorch code calls it
    assert m.grad_fn.name() == "CloneBackward0" and x.contiguous() is x
    m.view(6).sum().backward()
    assert np.array_equal(x.grad.numpy(), np.ones((2, 3)))


def test_reshape_saves_no_input_so_later_inplace_changes_do_not_matter():
    w = sg.ones(2, 3, requires_grad=True)
    y = (w.view(6)[[0, 0, 1]] * 2).sum() + w.t().reshape(6)[1:].sum()
    with sg.no_grad():
        w.mul_(3.0)                      # as an optimizer step would
    y.backward()                         # PyTorch's nodes here keep only sizes, too
    np.testing.assert_array_equal(w.grad.numpy(), [[4, 3, 1], [1, 1, 1]])


def test_masked_fill_value_tensor_gets_summed_gradient():
    x = sg.tensor([[1.0, -2.0], [3.0, -4.0]], requires_grad=True)
    v = sg.tensor(0.5, requires_grad=True)
    y = x.masked_fill(x < 0, v)
    assert y.grad_fn.name() == "MaskedFillBackward1"
    (y * sg.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert v.grad.item() == 6.0
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0], [3, 0]])
    i = sg.tensor([1, 2, 3]).masked_fill(sg.tensor([True, False, True]), 2.7)
    assert i.dtype == sg.int64 and i.tolist() == [2, 2, 2]


def test_symbolic_indexing_replays_mirrors():
    a = sg.symbolic.symbols("a", (2, 3))
    out = a[1, [0, 0]] + a[:, 1:].sum() + a.flip(1)[0, 0] + a.roll(1)[0, 0]
    assert out.shape == (2,)
    assert str(out[0].item()) == str(out[1].item())


# ================================================================ item assignment
SETITEM = [
    # (index, value shape or None for a number, PyTorch's node name)
    ("0", (4, 5), "CopySlices"), ("(slice(None), 1)", None, "CopySlices"),
    ("[0, 0, 1]", (3, 4, 5), "IndexPutBackward0"), ("[2, 0]", (2, 4, 5), "IndexPutBackward0"),
    ("(0, 0)", (), "CopySlices"), ("(Ellipsis, 0)", (3, 4), "CopySlices"),
    ("(slice(1, None), [0, 0, 3])", (2, 3, 5), "CopySlices"),
    ("T([0, 2])", (2, 4, 5), "IndexPutBackward0"),
    ("(0, slice(None, None, 2))", (5,), "CopySlices"),
    ("x[:, :, 0] > 0", None, "IndexPutBackward0"), ("(True,)", None, "CopySlices"),
    ("(None,)", (1, 3, 4, 5), "CopySlices"), ("T(1)", (4, 5), "CopySlices"),
    ("[1, 1, 1]", (3, 4, 5), "IndexPutBackward0"), ("(0, T(1))", None, "CopySlices"),
]
MIXED = "(1, slice(None), [0, 2])"


def _setitem(m, index, vshape):
    env = _env(m)
    x = env["x"]
    v = None if vshape is None else m.tensor(
        np.random.default_rng(5).standard_normal(vshape), requires_grad=True)
    y = x * 1                                            # a non-leaf, as assignment needs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y[eval(index, env)] = 2.5 if v is None else v * 1  # noqa: S307
    w = np.random.default_rng(6).standard_normal((3, 4, 5))
    (y * m.tensor(w)).sum().backward()
    return y, x, v


def _setitem_same(torch, index, vshape, name):
    ys, xs, vs = _setitem(sg, index, vshape)
    yt, xt, vt = _setitem(torch, index, vshape)
    np.testing.assert_array_equal(ys.detach().numpy(), yt.detach().numpy())
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-15)
    if vt is not None:
        np.testing.assert_allclose(vs.grad.numpy(), vt.grad.numpy(), rtol=1e-15)
    assert yt.grad_fn.name().split("::")[-1] == name     # the table says what PyTorch records


def test_setitem_values_and_gradients_match_pytorch():
    """inplace.index_put_ (not this module's code): values and gradients, repeats included."""
    _each(_setitem_same, [r for r in SETITEM if r[0] != MIXED], _torch())


def test_setitem_mixed_int_and_list_as_pytorch():
    _setitem_same(_torch(), MIXED, (4, 2), "CopySlices")


def test_setitem_node_names_match_pytorch():
    rows = [r for r in SETITEM if r[0] != MIXED] + [("(Ellipsis,)", None, "FillBackward3")]

    def same(index, vshape, name):
        got = _setitem(sg, index, vshape)[0].grad_fn
        assert type(got).__name__ == name       # and name() as PyTorch's C++ nodes name it
        assert got.name() == ("torch::autograd::" if name == "CopySlices" else "") + name

    _each(same, rows)


TAKE_ALONG_ROWS = [    # input shape, index, dim
    ((3, 4), [[0, 2]], 1),                      # index broadcasts over dim 0
    ((1, 4), [[0, 2], [1, 1], [3, 3]], 1),      # input broadcasts over dim 0
    ((3, 4), [[0], [2], [2]], 1),
    ((3, 4), [[2, 0, 1, 1]], 0),
    ((2, 1, 4), np.array([[[0, 3]], [[1, 1]]]).reshape(2, 1, 2).repeat(3, 1), -1),
    ((2, 1, 4), np.zeros((1, 3, 2), dtype=np.int64), 2),
    ((3, 4), [[-1], [5], [100]], 1),            # wrapped modulo the size, as PyTorch
    ((3, 4), [[5, 0], [11, 1]], None),          # no dim: both flattened
    ((3, 4), [1, 2, 2], None),
    ((), [0, 0], None),
]


@pytest.mark.parametrize("shape, index, dim", TAKE_ALONG_ROWS)
def test_take_along_dim_broadcasts_and_flattens_as_pytorch(shape, index, dim):
    torch = _torch()
    x = RNG.standard_normal(shape)
    out = []
    for m in (sg, torch):
        xt = m.tensor(x, requires_grad=True)
        idx = m.tensor(np.asarray(index, dtype=np.int64))
        y = m.take_along_dim(xt, idx) if dim is None else m.take_along_dim(xt, idx, dim)
        g = m.tensor(np.arange(1.0, y.numel() + 1).reshape(tuple(y.shape)))
        (y * g).sum().backward()
        out.append((y.detach().numpy(), xt.grad.numpy(), y.grad_fn.name()))
    (ys, gs, ns), (yt, gt, nt) = out
    np.testing.assert_array_equal(ys, yt)
    np.testing.assert_array_equal(gs, gt)
    assert ns == nt == "GatherBackward0"


def test_take_along_dim_second_order_and_errors_as_pytorch():
    x = sg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = sg.take_along_dim(x, sg.tensor([[0, 2], [1, 1], [2, 0]]), 1)
    (g,) = sg.autograd.grad((y ** 3).sum(), x, create_graph=True)
    assert g.tolist() == [[6.0, 24.0, 54.0]]
    assert sg.autograd.grad(g.sum(), x)[0].tolist() == [[12.0, 24.0, 36.0]]
    assert x.take_along_dim(sg.tensor([[2, 0]])).tolist() == [3.0, 1.0]
    z = sg.zeros(3, 4)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        sg.take_along_dim(z, sg.tensor([0]), 0)
    with pytest.raises(RuntimeError, match=r"size of tensor a \(4\) must match .* \(3\) at "
                                           "non-singleton dimension 1"):
        sg.take_along_dim(z, sg.zeros(1, 3, dtype=sg.int64), 0)
    with pytest.raises(IndexError, match="has no dimensions"):
        sg.take_along_dim(sg.tensor(1.0), sg.tensor(0), 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        sg.take_along_dim(z, sg.tensor([[0]]), 2)
    with pytest.raises(RuntimeError, match="index 12 is out of bounds"):
        sg.take_along_dim(z, sg.tensor([12]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
        sg.take_along_dim(z, sg.tensor([-1]))
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        sg.take_along_dim(z.t(), sg.tensor([1]))          # PyTorch views, as here
