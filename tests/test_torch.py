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


def _custom_functions(m, seen):
    """The same custom Functions for torch and symgrad (whose forward gets numpy arrays)."""

    class Square(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, save_output):
            seen.append(ctx.needs_input_grad)
            y = x * x
            ctx.save_for_backward(y if save_output else x)
            return y

        @staticmethod
        def backward(ctx, g):
            (s,) = ctx.saved_tensors
            return g * s, None

    class ArgMax(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            r = x.argmax()
            ctx.mark_non_differentiable(r)
            return r

        @staticmethod
        def backward(ctx, g):
            return None

    return Square, ArgMax


def test_custom_functions_match_pytorch():
    for m in (torch, sg):
        seen = []
        Square, ArgMax = _custom_functions(m, seen)
        x = m.tensor([1.0, 3.0, 2.0], requires_grad=True)
        r = ArgMax.apply(x)
        assert (r.item(), str(r.dtype).split(".")[1], r.requires_grad) == (1, "int64", False)
        for save_output in (False, True):
            h = x * 1
            y = Square.apply(h, save_output)
            assert seen.pop() == (True, False)
            (y if save_output else h).mul_(2)
            with pytest.raises(RuntimeError):
                y.sum().backward()


_BITWISE_DATA = {"int8": [-128, -3, 0, 5, 127], "int32": [-(2 ** 31), -7, 0, 6, 2 ** 31 - 1],
                 "int64": [-(2 ** 63), -6, 0, 9, 2 ** 62], "uint8": [0, 1, 3, 200, 255],
                 "bool": [True, False, True, False, True]}


def _bitwise_tensor(m, name, zero_dim=False):
    data = _BITWISE_DATA[name]
    return m.tensor(data[3] if zero_dim else data, dtype=getattr(m, name))


def _outcome(fn, m):
    """(dtype name, values) of ``fn(m)``, or (exception type, message) if it raises."""
    try:
        r = fn(m)
    except Exception as e:  # noqa: BLE001 (the exception itself is compared)
        return type(e).__name__, str(e)
    return str(r.dtype).split(".")[1], r.tolist()


def _ior(x, y):
    x |= y
    return x


def test_bitwise_operators_match_pytorch():
    """& | ^ ~ and bitwise_*: bitwise on integers, logical on bools, PyTorch's result
    dtypes (Python ints wrap to the tensor's width), PyTorch's errors on floats."""
    T = _bitwise_tensor
    ops = {"and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b}
    cases = []
    for da in _BITWISE_DATA:
        cases += [lambda m, da=da: ~T(m, da), lambda m, da=da: T(m, da).bitwise_not(),
                  lambda m, da=da: m.bitwise_not(T(m, da, True))]
        for name, op in ops.items():
            for db in _BITWISE_DATA:
                for z in (False, True):
                    cases += [lambda m, da=da, db=db, z=z, op=op: op(T(m, da), T(m, db, z)),
                              lambda m, da=da, db=db, z=z, op=op: op(T(m, da, z), T(m, db)),
                              lambda m, da=da, db=db, z=z, name=name:
                              getattr(m, f"bitwise_{name}")(T(m, da), T(m, db, z))]
            for s in (0, 3, -1, 300, 2 ** 40, True, False):
                cases += [lambda m, da=da, s=s, op=op: op(T(m, da), s),
                          lambda m, da=da, s=s, op=op: op(s, T(m, da)),
                          lambda m, da=da, s=s, name=name:
                          getattr(m, f"bitwise_{name}")(s, T(m, da)),
                          lambda m, da=da, s=s, name=name:
                          getattr(T(m, da), f"bitwise_{name}")(s)]
        if da != "bool":
            cases += [lambda m, da=da: _ior(T(m, da), 300), lambda m, da=da: _ior(T(m, da), True),
                      lambda m, da=da: T(m, da).bitwise_and_(T(m, "bool"))]
    for c in cases:
        ours, theirs = _outcome(c, sg), _outcome(c, torch)
        assert ours == theirs
        assert ours[0] in ("bool", "uint8", "int8", "int16", "int32", "int64")   # no error

    floats = [lambda m, fd=fd: fn(m, m.tensor([1.0, 2.0], dtype=getattr(m, fd)))
              for fd in ("float32", "float64")
              for fn in (lambda m, f: f & 1, lambda m, f: 1 | f, lambda m, f: f ^ f,
                         lambda m, f: m.tensor([1, 2]) & f, lambda m, f: f.bitwise_or(2),
                         lambda m, f: m.bitwise_xor(3, f), lambda m, f: ~f,
                         lambda m, f: m.bitwise_not(f), lambda m, f: f.bitwise_not())]
    floats += [lambda m: m.tensor([1, 2]) & 1.5, lambda m: 1.5 | m.tensor([True]),
               lambda m: m.tensor([True]) ^ 1.0]
    for c in floats:
        ours, theirs = _outcome(c, sg), _outcome(c, torch)
        assert ours == theirs
        assert ours[0] in ("NotImplementedError", "TypeError")
    # an int result cannot be written into a bool tensor (messages name the dtypes differently)
    assert _outcome(lambda m: _ior(T(m, "bool"), 3), sg)[0] == "RuntimeError"
    assert _outcome(lambda m: _ior(T(m, "bool"), 3), torch)[0] == "RuntimeError"
