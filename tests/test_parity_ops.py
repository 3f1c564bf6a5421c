"""Parity of ops with PyTorch found by a differential sweep: rounding division, add/sub's
alpha, double backward through piecewise-linear activations, node names of composed ops.

Each test states the expected behaviour as known values, so it runs without PyTorch; the
tests named ``..._as_pytorch`` also run the same program on PyTorch when it is installed.
"""

import numpy as np
import pytest

import symgrad as sg
from symgrad.verify.rules import check_rules


def _torch():
    return pytest.importorskip("torch")


def _summary(t) -> tuple:
    """What a PyTorch user sees of a result: values (repr, so nan and -0.0 compare), dtype
    name, node name, requires_grad."""
    fn = t.grad_fn
    name = None if fn is None else (fn.name() if callable(getattr(fn, "name", None))
                                    else type(fn).__name__)
    return repr(t.tolist()), str(t.dtype).split(".")[-1], name, t.requires_grad


# ================================================================ div(rounding_mode=...)
@pytest.mark.parametrize("mode,expected", [("trunc", [3, -3, 2, -2]), ("floor", [3, -4, 2, -3])])
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8"])
def test_rounding_division_of_integers_keeps_the_integer_dtype(mode, expected, dtype):
    a = sg.tensor([7, -7, 5, -5], dtype=getattr(sg, dtype))
    out = sg.div(a, 2, rounding_mode=mode)
    assert out.dtype == getattr(sg, dtype) and out.tolist() == expected
    out = sg.div(a, sg.tensor([2, 2, 2, 2], dtype=getattr(sg, dtype)), rounding_mode=mode)
    assert out.dtype == getattr(sg, dtype) and out.tolist() == expected


def test_rounding_division_dtypes_follow_promotion():
    b = sg.tensor([True, False])
    assert _summary(sg.div(b, 2, rounding_mode="trunc"))[:2] == ("[0, 0]", "int64")
    assert _summary(sg.div(7, sg.tensor([2, -2, 3]), rounding_mode="trunc"))[:2] == (
        "[3, -3, 2]", "int64")
    assert _summary(sg.div(sg.tensor([7, -7]), 2.5, rounding_mode="trunc"))[:2] == (
        "[2.0, -2.0]", "float64")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        sg.div(sg.tensor([7, 1]), sg.tensor([2, 0]), rounding_mode="trunc")
    with pytest.raises(NotImplementedError, match="div_floor_cpu"):
        sg.div(b, b, rounding_mode="floor")


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_rounding_division_is_recorded_with_zero_gradients(mode):
    x = sg.tensor([7.0, -7.0, 0.5], requires_grad=True)
    y = sg.tensor([2.0, 3.0, -4.0], requires_grad=True)
    out = sg.div(x, y, rounding_mode=mode)
    assert out.grad_fn.name() == "DivBackward2" and out.requires_grad
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0] and y.grad.tolist() == [0.0, 0.0, 0.0]
    (res,) = check_rules(["div_" + mode], points=4)
    assert res.ok, res.detail


def test_rounding_division_as_pytorch():
    torch = _torch()
    progs = [
        lambda m: m.div(m.tensor([7, -7, 5, -5]), m.tensor([2, 2, -3, 3]), rounding_mode="trunc"),
        lambda m: m.div(m.tensor([7, -7, 5, -5]), m.tensor([2, 2, -3, 3]), rounding_mode="floor"),
        lambda m: m.div(m.tensor([7, -7], dtype=m.uint8), 3, rounding_mode="trunc"),
        lambda m: m.div(m.tensor([7.0, -7.0, 0.0], dtype=m.float64), 0.0, rounding_mode="trunc"),
        lambda m: m.div(3.0, m.tensor([7.0, -7.0], dtype=m.float64), rounding_mode="trunc"),
        lambda m: m.div(m.tensor([7.0, -7.0], dtype=m.float32, requires_grad=True), 2,
                        rounding_mode="floor"),
    ]
    for prog in progs:
        assert _summary(prog(sg)) == _summary(prog(torch))


# ================================================================ alpha of add / sub / rsub
@pytest.mark.parametrize("prog,message", [
    (lambda: sg.add(sg.tensor([1, 2]), sg.tensor([1, 2]), alpha=True), "Boolean alpha"),
    (lambda: sg.sub(sg.tensor([1.0]), sg.tensor([1.0]), alpha=True), "Boolean alpha"),
    (lambda: sg.rsub(sg.tensor([1.0]), 2, alpha=True), "Boolean alpha"),
    (lambda: sg.tensor([1.0]).sub(sg.tensor([1]), alpha=True), "Boolean alpha"),
    (lambda: sg.add(sg.tensor([1, 2]), sg.tensor([1, 2]), alpha=2.5), "integral input"),
    (lambda: sg.add(sg.tensor([1, 2]), 3, alpha=1.0), "integral input"),
    (lambda: sg.add(sg.tensor([True]), sg.tensor([True]), alpha=0.5), "integral input"),
    (lambda: sg.tensor([1, 2]).add(sg.tensor(2), alpha=sg.tensor(2.0)), "integral input"),
    (lambda: sg.add(sg.tensor([1, 2], dtype=sg.int8), sg.tensor([1, 2], dtype=sg.int8),
                    alpha=1000), "int8_t without overflow"),
    (lambda: sg.add(sg.tensor([1, 2], dtype=sg.uint8), 1, alpha=-300), "uint8_t"),
    (lambda: sg.add(sg.tensor([1.0], dtype=sg.float32), 1, alpha=1e39), "type float"),
    (lambda: sg.add(sg.tensor([1.0], dtype=sg.float16), 1, alpha=70000), "c10::Half"),
])
def test_alpha_is_checked_against_the_result_dtype(prog, message):
    with pytest.raises(RuntimeError, match=message):
        prog()


def test_alpha_must_be_a_number():
    with pytest.raises(TypeError, match="must be Number, not NoneType"):
        sg.add(sg.ones(2), sg.ones(2), alpha=None)
    with pytest.raises(TypeError, match="must be Number, not list"):
        sg.add(sg.ones(2), sg.ones(2), alpha=[2])
    with pytest.raises(OverflowError):
        sg.add(sg.ones(2), sg.ones(2), alpha=2 ** 70)


def test_alpha_is_converted_to_the_result_dtype():
    b = sg.tensor([True, False])
    assert _summary(sg.add(b, b, alpha=2))[:2] == ("[True, False]", "bool")
    assert _summary(sg.add(b, b, alpha=0))[:2] == ("[True, False]", "bool")
    assert _summary(sg.add(b, True, alpha=2))[:2] == ("[True, True]", "bool")
    assert _summary(sg.add(b, 2, alpha=2))[:2] == ("[5, 4]", "int64")
    i8 = sg.tensor([1, 2], dtype=sg.int8)
    assert _summary(sg.add(i8, 100, alpha=3))[:2] == ("[45, 46]", "int8")    # 301 wraps
    u8 = sg.tensor([1, 2], dtype=sg.uint8)
    assert _summary(sg.add(u8, 1, alpha=-1))[:2] == ("[0, 1]", "uint8")      # -1 is 255
    assert _summary(sg.sub(sg.tensor([1, 2]), 2, alpha=3))[:2] == ("[-5, -4]", "int64")
    assert _summary(sg.rsub(sg.tensor([1, 2]), 2, alpha=3))[:2] == ("[-1, -4]", "int64")
    assert _summary(sg.add(sg.tensor([1, 2]), 1.5, alpha=2))[:2] == ("[4.0, 5.0]", "float64")
    assert _summary(sg.add(sg.ones(2), sg.ones(2), alpha=np.float32(2.5)))[0] == "[3.5, 3.5]"


def test_alpha_gradients_and_node_names():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    for fn, name, grad in [(lambda: sg.add(x, x, alpha=3), "AddBackward0", 4.0),
                           (lambda: sg.sub(2.0, x, alpha=3), "SubBackward0", -3.0),
                           (lambda: 2.0 - x, "RsubBackward1", -1.0),
                           (lambda: sg.rsub(x, 2.0, alpha=3), "RsubBackward1", -3.0),
                           (lambda: sg.rsub(x, x * 2, alpha=3), "RsubBackward0", -1.0)]:
        x.grad = None
        y = fn()
        assert y.grad_fn.name() == name
        y.sum().backward()
        assert x.grad.tolist() == [grad, grad]


def test_alpha_as_pytorch():
    torch = _torch()
    progs = [
        lambda m: m.add(m.tensor([True, False]), m.tensor([True, True]), alpha=-1),
        lambda m: m.add(m.tensor([1, 2], dtype=m.int8), 100, alpha=3),
        lambda m: m.add(m.tensor([1, 2], dtype=m.uint8), 1, alpha=-1),
        lambda m: m.sub(m.tensor([1, 2], dtype=m.int16), m.tensor([3, 4]), alpha=-300),
        lambda m: m.sub(2.0, m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True), alpha=2),
    ]
    for prog in progs:
        assert _summary(prog(sg)) == _summary(prog(torch))
    for alpha in (True, 2.5, 1000):
        for m in (sg, torch):
            with pytest.raises(RuntimeError):
                m.add(m.tensor([1, 2], dtype=m.int8), m.tensor([1, 2], dtype=m.int8), alpha=alpha)


def test_number_divided_by_tensor_node_names():
    x = sg.tensor([1.0, -2.0], requires_grad=True)
    y = sg.div(2.0, x)
    assert y.grad_fn.name() == "DivBackward0" and y.tolist() == [2.0, -1.0]
    y.sum().backward()
    assert x.grad.tolist() == [-2.0, -0.5]
    assert (2.0 / x).grad_fn.name() == "MulBackward0"      # the operator: reciprocal * 2
    assert _summary(sg.div(2, sg.tensor([1, 4])))[:2] == ("[2.0, 0.5]", "float64")
    assert _summary(2 / sg.tensor([1, 4]))[:2] == ("[2.0, 0.5]", "float64")


# ================================================================ double backward, piecewise linear
from symgrad.nn import functional as F  # noqa: E402

PIECEWISE = {   # PyTorch's node for the gradient (None: the gradient is a constant)
    "relu": (lambda m, F, x: F.relu(x), "ThresholdBackwardBackward0"),
    "relu6": (lambda m, F, x: F.relu6(x), "HardtanhBackwardBackward0"),
    "hardtanh": (lambda m, F, x: F.hardtanh(x), "HardtanhBackwardBackward0"),
    "leaky_relu": (lambda m, F, x: F.leaky_relu(x, 0.1), "LeakyReluBackwardBackward0"),
    "abs": (lambda m, F, x: x.abs(), "MulBackward0"),
    "clamp": (lambda m, F, x: x.clamp(-0.5, 0.5), None),
    "max": (lambda m, F, x: x.max(), None),
    "max_dim": (lambda m, F, x: x.max(0)[0], None),
    "maximum": (lambda m, F, x: m.maximum(x, m.zeros(3, dtype=x.dtype)), None),
}


def _second_order(m, F, fn):
    x = m.tensor([-1.0, 0.5, 2.0], dtype=m.float64, requires_grad=True)
    (g,) = m.autograd.grad(fn(m, F, x).sum(), x, create_graph=True)
    name = None if g.grad_fn is None else type(g.grad_fn).__name__
    out = [g.tolist(), g.requires_grad, name]
    if g.requires_grad:
        (gg,) = m.autograd.grad((g * m.tensor([1.0, 2.0, 3.0], dtype=m.float64)).sum(), x)
        out.append((gg + 0).tolist())   # (+ 0: PyTorch's gradient of abs is a lazy zero)
    else:
        with pytest.raises(RuntimeError, match="does not require grad"):
            m.autograd.grad(g.sum(), x, allow_unused=True)
    return out


@pytest.mark.parametrize("name", list(PIECEWISE))
def test_double_backward_of_piecewise_linear_ops(name):
    fn, node = PIECEWISE[name]
    out = _second_order(sg, F, fn)
    assert out[1] is (node is not None) and out[2] == node
    if node is not None:
        assert out[3] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("name", list(PIECEWISE))
def test_double_backward_of_piecewise_linear_ops_as_pytorch(name):
    torch = _torch()
    fn, _ = PIECEWISE[name]
    assert _second_order(sg, F, fn) == _second_order(torch, torch.nn.functional, fn)


def test_activation_backward_ops_are_proved():
    for res in check_rules(["threshold_backward", "leaky_relu_backward", "hardtanh_backward"],
                           points=4):
        assert res.ok, res.detail
    x = sg.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    h = sg.autograd.functional.hessian(lambda x: F.relu(x).sum(), x, create_graph=True)
    assert h.tolist() == np.zeros((3, 3)).tolist()


# ================================================================ integer powers, matmul operands
def test_integer_powers_with_negative_exponent_tensors():
    base = sg.tensor([-3, -1, 0, 1, 2, 5])
    e = sg.tensor([2, -1, -3, -2, -1, 1])
    assert _summary(base ** e)[:2] == ("[9, -1, 0, 1, 0, 5]", "int64")
    i8 = sg.tensor([2, -1, 0, 3, -2, 1], dtype=sg.int8)
    assert _summary(2 ** i8)[:2] == ("[4, 0, 1, 8, 0, 2]", "int8")
    assert _summary(sg.pow(-1, i8))[:2] == ("[1, -1, 1, -1, 1, -1]", "int8")
    assert _summary(True ** i8)[:2] == ("[1, 1, 1, 1, 1, 1]", "int8")
    u8 = sg.tensor([2, 1, 0, 3], dtype=sg.uint8)
    assert _summary(sg.pow(-3, u8))[:2] == ("[9, 253, 1, 229]", "uint8")    # -3 is 253
    with pytest.raises(RuntimeError, match="negative integer powers"):
        sg.tensor([True, False]) ** -1
    with pytest.raises(NotImplementedError, match="pow"):
        sg.tensor([True]) ** sg.tensor([False])
    with pytest.raises(NotImplementedError, match="pow"):
        True ** sg.tensor([False])


def test_integer_powers_as_pytorch():
    torch = _torch()
    progs = [lambda m: m.tensor([-3, -1, 0, 1, 2, 5]) ** m.tensor([2, -1, -3, -2, -1, 1]),
             lambda m: m.tensor([0, 1, 2, 3, 5, 200], dtype=m.uint8) ** m.tensor([2, 1, 0, 3, 2, 1],
                                                                                dtype=m.int8),
             lambda m: m.pow(-3, m.tensor([2, 1, 0, 3], dtype=m.uint8)),
             lambda m: m.pow(2, m.tensor([2, -1, 0, 3, -2, 1], dtype=m.int8))]
    for prog in progs:
        assert _summary(prog(sg)) == _summary(prog(torch))


def test_matmul_with_a_number_is_a_type_error():
    t = sg.ones(3)
    for fn in (lambda: t @ 2, lambda: 2.5 @ t, lambda: sg.matmul(t, [1.0, 2.0, 3.0])):
        with pytest.raises(TypeError, match="must be Tensor"):
            fn()
    assert (np.ones(3) @ t).item() == 3.0     # numpy arrays still convert


# ================================================================ node names of compound ops
def _x(m, data=((0.5, -1.0, 2.0), (1.5, 0.25, -0.5))):
    return m.tensor(data, dtype=m.float64, requires_grad=True)


def _p(m):
    return m.tensor([0.2, 0.5, 0.9], dtype=m.float64, requires_grad=True)


NAMES = {   # program: PyTorch's node name of the result
    "addcmul": (lambda m, F: m.addcmul(_x(m), _x(m), _x(m), value=0.5), "AddcmulBackward0"),
    "addcdiv": (lambda m, F: m.addcdiv(_x(m), _x(m), _x(m), value=2), "AddcdivBackward0"),
    "lerp_number": (lambda m, F: m.lerp(_x(m), _x(m) * 2, 0.3), "LerpBackward0"),
    "lerp_tensor": (lambda m, F: m.lerp(_x(m), _x(m) * 2, _x(m)), "LerpBackward1"),
    "exp2": (lambda m, F: m.exp2(_x(m)), "Exp2Backward0"),
    "hypot": (lambda m, F: m.hypot(_x(m), _x(m) * 2), "HypotBackward0"),
    "logit": (lambda m, F: m.logit(_p(m)), "LogitBackward0"),
    "logit_eps": (lambda m, F: m.logit(_p(m), eps=0.3), "LogitBackward0"),
    "frac": (lambda m, F: m.frac(_x(m)), "FracBackward0"),
    "nan_to_num": (lambda m, F: m.nan_to_num(_x(m).log()), "NanToNumBackward0"),
    "tril": (lambda m, F: m.tril(_x(m)), "TrilBackward0"),
    "triu": (lambda m, F: m.triu(_x(m), 1), "TriuBackward0"),
    "diagonal": (lambda m, F: m.diagonal(_x(m), 1), "DiagonalBackward0"),
    "diag_of_matrix": (lambda m, F: m.diag(_x(m)), "DiagonalBackward0_copy"),
    "diag_of_vector": (lambda m, F: m.diag(_p(m), -1), "DiagEmbedBackward0"),
    "trace": (lambda m, F: m.trace(_x(m)), "TraceBackward0"),
    "masked_select": (lambda m, F: m.masked_select(_x(m), m.tensor([True, False, True])),
                      "MaskedSelectBackward0"),
    "sort": (lambda m, F: m.sort(_x(m), 1).values, "SortBackward0"),
    "topk": (lambda m, F: m.topk(_x(m), 2).values, "TopkBackward0"),
}


def _node_name(t):
    fn = t.grad_fn
    return fn.name() if callable(getattr(fn, "name", None)) else type(fn).__name__


@pytest.mark.parametrize("name", sorted(NAMES))
def test_compound_ops_are_one_node_named_as_pytorch(name):
    prog, expected = NAMES[name]
    out = prog(sg, F)
    assert _node_name(out) == expected
    out.sum().backward()          # and the node runs


@pytest.mark.parametrize("name", sorted(NAMES))
def test_compound_op_names_and_values_as_pytorch(name):
    torch = _torch()
    prog, expected = NAMES[name]
    ours, theirs = prog(sg, F), prog(torch, torch.nn.functional)
    assert _node_name(theirs) == expected
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-13)


def test_compound_ops_are_proved():
    names = ["addcmul", "addcdiv", "lerp", "lerp_tensor", "frac", "logit", "hypot", "trace"]
    for res in check_rules(names, points=4):
        assert res.ok, res.detail


def test_compound_ops_refuse_dtypes_as_pytorch():
    i, b = sg.tensor([1, 2]), sg.tensor([True, False])
    f = sg.tensor([1.0, 2.0])
    with pytest.raises(NotImplementedError, match="frac_cpu"):
        sg.frac(i)
    with pytest.raises(NotImplementedError, match="hypot_cpu"):
        sg.hypot(i, i)
    with pytest.raises(NotImplementedError, match="trace"):
        sg.trace(sg.tensor([[True]]))
    with pytest.raises(NotImplementedError, match="addcmul"):
        sg.addcmul(b, b, b)
    with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
        sg.addcdiv(f, i, i)
    with pytest.raises(NotImplementedError, match="lerp_kernel_scalar"):
        sg.lerp(i, i, 0.5)
    with pytest.raises(RuntimeError, match="expected dtype"):
        sg.lerp(f, f.float(), 0.5)
    with pytest.raises(RuntimeError, match="topk does not support bool"):
        sg.topk(b, 1)
    with pytest.raises(TypeError, match="tensor2"):
        sg.addcmul(f, f, 2)
    # integers and bools convert where PyTorch converts them: logit of a uint8 is nan
    # above 1 (it computed log(p) - log1p(-p) with -p wrapped around)
    assert _summary(sg.logit(sg.tensor([0, 1, 2], dtype=sg.uint8)))[:2] == (
        "[-inf, inf, nan]", "float64")
    assert _summary(sg.logit(sg.tensor([False, True])))[:2] == ("[-inf, inf]", "float64")
    assert _summary(sg.addcmul(i, i, i, value=0.5))[:2] == ("[1, 2]", "int64")   # value -> 0
    assert _summary(sg.trace(sg.tensor([[1, 2], [3, 4]], dtype=sg.int8)))[:2] == ("5", "int64")


def test_logit_gradient_outside_its_domain_and_at_eps():
    x = sg.tensor([-0.5, 0.1, 0.5, 0.9, 1.5], requires_grad=True)
    sg.logit(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [np.nan, 1 / 0.09, 4.0, 1 / 0.09, np.nan])
    x.grad = None
    sg.logit(x, eps=0.1).sum().backward()     # the bounds keep the inner gradient
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1 / 0.09, 4.0, 1 / 0.09, 0.0])


# ================================================================ scatter, index_add, embedding
NAMES_SCATTER = {
    "scatter_add": (lambda m, F: m.scatter_add(_x(m), 1, m.tensor([[0, 0, 1], [2, 1, 0]]),
                                               _x(m) * 2), "ScatterAddBackward0"),
    "scatter": (lambda m, F: m.scatter(_x(m), 1, m.tensor([[0, 2], [1, 0]]),
                                       _x(m)[:, :2] * 2), "ScatterBackward0"),
    "scatter_value": (lambda m, F: m.scatter(_x(m), 1, m.tensor([[0, 2], [1, 0]]), 5.0),
                      "ScatterBackward1"),
    "index_add": (lambda m, F: m.index_add(_x(m), 1, m.tensor([2, 0, 2]), _x(m) * 3, alpha=2),
                  "IndexAddBackward0"),
    "embedding": (lambda m, F: F.embedding(m.tensor([[0, 1], [1, 1]]), _x(m)),
                  "EmbeddingBackward0"),
    "embedding_padding": (lambda m, F: F.embedding(m.tensor([0, 1, 1]), _x(m), padding_idx=1),
                          "EmbeddingBackward0"),
    "repeat_interleave": (lambda m, F: m.repeat_interleave(_x(m), 2, dim=1), "ViewBackward0"),
    "repeat_interleave_tensor": (lambda m, F: m.repeat_interleave(_x(m), m.tensor([2, 0]),
                                                                  dim=0),
                                 "IndexSelectBackward0"),
}
NAMES.update(NAMES_SCATTER)


def _grads(m, F, prog):
    """The gradients of the leaves the result was computed from (weighted sum)."""
    out = prog(m, F)
    leaves = []

    def walk(fn):
        for nxt, _ in (fn.next_functions if fn is not None else ()):
            if nxt is None:
                continue
            var = getattr(nxt, "variable", None)
            if var is not None:
                leaves.append(var)
            else:
                walk(nxt)
    walk(out.grad_fn)
    w = m.arange(out.numel(), dtype=m.float64).reshape(tuple(out.shape)) + 1
    (out * w).sum().backward()
    return [leaf.grad.tolist() for leaf in leaves]


@pytest.mark.parametrize("name", sorted(NAMES_SCATTER))
def test_scatter_family_gradients_as_pytorch(name):
    torch = _torch()
    prog, _ = NAMES_SCATTER[name]
    assert _grads(sg, F, prog) == _grads(torch, torch.nn.functional, prog)


def test_scatter_family_records_are_proved():
    for res in check_rules(["scatter_add", "scatter", "index_add", "embedding"], points=4):
        assert res.ok, res.detail


@pytest.mark.parametrize("prog,exc", [
    (lambda: sg.index_add(sg.zeros(3, 2), 0, sg.tensor([0, -1]), sg.ones(2, 2)), RuntimeError),
    (lambda: sg.index_add(sg.zeros(3, 2), 0, sg.tensor([0, 5]), sg.ones(2, 2)), RuntimeError),
    (lambda: sg.index_add(sg.zeros(3, 2), 0, sg.tensor([[0, 1]]), sg.ones(2, 2)), IndexError),
    (lambda: sg.index_add(sg.zeros(3, 2), 0, sg.tensor([0, 1, 2]), sg.ones(2, 2)), RuntimeError),
    (lambda: sg.index_add(sg.zeros(3, 2), 0, sg.tensor([0, 1]), sg.ones(2)), RuntimeError),
    (lambda: sg.index_add(sg.zeros(3, 2), 0, sg.tensor([0.0, 1.0]), sg.ones(2, 2)),
     RuntimeError),
    (lambda: sg.scatter_add(sg.zeros(3, 2), 0, sg.tensor([[0, 1]]), sg.ones(1, 1)),
     RuntimeError),
    (lambda: sg.scatter(sg.zeros(3, 2), 0, sg.tensor([[0, 1]]), sg.tensor(2.0)), RuntimeError),
    (lambda: sg.repeat_interleave(sg.ones(2), sg.tensor([2, 1], dtype=sg.int8)),
     NotImplementedError),
    (lambda: sg.repeat_interleave(sg.ones(2), sg.tensor([2, 1, 1])), RuntimeError),
    (lambda: sg.repeat_interleave(sg.ones(2), [2, 1]), TypeError),
])
def test_scatter_family_refuses_bad_indices(prog, exc):
    # numpy would wrap the -1, broadcast the wrong source shape or read a 2-d index
    with pytest.raises(exc):
        prog()


def test_index_add_keeps_the_input_dtype():
    x = sg.tensor([1, 2])
    assert _summary(sg.index_add(x, 0, sg.tensor([1]), sg.tensor([5]), alpha=2.7))[:2] == (
        "[1, 12]", "int64")    # alpha truncated to 2, as PyTorch
    b = sg.tensor([True, False, True])
    assert _summary(sg.index_add(b, 0, sg.tensor([0, 0]), sg.tensor([True, True])))[:2] == (
        "[True, False, True]", "bool")


# ================================================================ small dtype rules
def test_where_clamp_masked_fill_all_any_argmax_dtypes():
    c = sg.tensor([True, False])
    assert _summary(sg.where(c, sg.tensor([True, False]), 2))[:2] == ("[1, 2]", "int64")
    assert _summary(sg.where(c, 2, sg.tensor([True, False])))[:2] == ("[2, 0]", "int64")
    assert _summary(sg.clamp(sg.tensor([0.0, 2.0]), True))[:2] == ("[1.0, 2.0]", "float64")
    assert _summary(sg.clamp(sg.tensor([True, False]), 0, 1))[:2] == ("[1, 0]", "int64")
    with pytest.raises(NotImplementedError, match="clamp_min_scalar_cpu"):
        sg.clamp(sg.tensor([True, False]), True)
    with pytest.raises(RuntimeError, match="Autograd not support dtype"):
        sg.tensor([1, 2]).masked_fill(c, sg.tensor(2.5, requires_grad=True))
    with sg.no_grad():
        assert sg.tensor([1, 2]).masked_fill(c, sg.tensor(2.5, requires_grad=True)).tolist() == [
            2, 2]
    u8 = sg.tensor([2, 0, 1], dtype=sg.uint8)
    assert _summary(sg.all(u8))[:2] == ("0", "uint8")
    assert _summary(sg.any(u8, 0, keepdim=True))[:2] == ("[1]", "uint8")
    with pytest.raises(RuntimeError, match="does not support bool"):
        sg.argmax(c)


# ================================================================ norms
NORM_DATA = {"zeros": [0.0, 0.0, 0.0], "one_zero": [0.0, -2.0, 1.0], "ties": [2.0, -2.0, 1.0],
             "mixed": [0.5, -1.0, 2.0]}
NORM_EXPECTED = {   # (p, data): (value, gradient), PyTorch's
    (0, "one_zero"): (2.0, [0.0, 0.0, 0.0]),
    (0, "mixed"): (3.0, [0.0, 0.0, 0.0]),
    (-np.inf, "ties"): (1.0, [0.0, 0.0, 1.0]),
    (-np.inf, "mixed"): (0.5, [1.0, 0.0, 0.0]),
    (-np.inf, "one_zero"): (0.0, [0.0, 0.0, 0.0]),
    (-1, "ties"): (0.5, [0.0625, -0.0625, 0.25]),
    (-1, "one_zero"): (0.0, [0.0, 0.0, 0.0]),
    (-1, "zeros"): (0.0, [0.0, 0.0, 0.0]),
    (np.inf, "ties"): (2.0, [0.5, -0.5, 0.0]),
    (1, "one_zero"): (3.0, [0.0, -1.0, 1.0]),
    (2, "zeros"): (0.0, [0.0, 0.0, 0.0]),
}


@pytest.mark.parametrize("key", sorted(NORM_EXPECTED, key=str), ids=str)
def test_vector_norm_orders_at_zeros_and_ties(key):
    p, data = key
    value, grad = NORM_EXPECTED[key]
    x = sg.tensor(NORM_DATA[data], requires_grad=True)
    y = sg.linalg.vector_norm(x, p)
    assert y.grad_fn.name() == "LinalgVectorNormBackward0"
    y.backward()
    np.testing.assert_allclose(y.item(), value)
    np.testing.assert_allclose(x.grad.numpy(), grad)


@pytest.mark.parametrize("p", [0, 0.5, 1, 2, 3, np.inf, -np.inf, -1, -2.5])
@pytest.mark.parametrize("data", sorted(NORM_DATA))
def test_vector_norm_as_pytorch(p, data):
    torch = _torch()
    s = sg.tensor(NORM_DATA[data], requires_grad=True)
    t = torch.tensor(NORM_DATA[data], dtype=torch.float64, requires_grad=True)
    ys, yt = sg.linalg.vector_norm(s, p), torch.linalg.vector_norm(t, p)
    np.testing.assert_allclose(ys.item(), yt.item())
    ys.backward()
    yt.backward()
    expected = np.zeros(3) if t.grad is None else t.grad.numpy()   # p = 0: no gradient
    np.testing.assert_allclose(s.grad.numpy(), expected, atol=1e-15)


def test_norm_records_are_proved():
    for res in check_rules(["norm", "norm0", "norm_neg_inf"], points=4):
        assert res.ok, res.detail


def test_linalg_norms():
    x = sg.tensor([[0.5, -1.0, 2.0], [2.0, 0.0, -2.0]], requires_grad=True)
    assert sg.linalg.norm(x).item() == pytest.approx(np.sqrt(13.25))
    assert sg.linalg.matrix_norm(x).item() == pytest.approx(np.sqrt(13.25))
    assert sg.linalg.norm(x, 1).item() == 4.0                  # the largest column sum
    assert sg.linalg.norm(x, -np.inf).item() == 3.5            # the smallest row sum
    assert sg.linalg.norm(x, 1).grad_fn.name() == "AmaxBackward0"
    assert sg.linalg.norm(x, np.inf, dim=(0, 1), keepdim=True).shape == (1, 1)
    assert sg.linalg.norm(x, dim=1).tolist() == pytest.approx([np.sqrt(5.25), np.sqrt(8.0)])
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        sg.linalg.matrix_norm(x, 3)
    with pytest.raises(NotImplementedError, match="singular values"):
        sg.linalg.norm(x, "nuc")
    with pytest.raises(RuntimeError, match="must be 1D or 2D"):
        sg.linalg.norm(sg.ones(2, 2, 2), "fro")
    with pytest.raises(TypeError, match="must be Number"):
        sg.linalg.vector_norm(x, "fro")
    with pytest.raises(RuntimeError, match="-1 norm on an empty tensor"):
        sg.linalg.vector_norm(sg.ones(0), -1)


def test_linalg_norms_as_pytorch():
    torch = _torch()
    data = [[0.5, -1.0, 2.0], [2.0, 0.0, -2.0]]
    for args in [(), (1,), (-1,), (np.inf,), (-np.inf,), ("fro",), (None, 1), (3, 0),
                 (1, (1, 0), True), (-np.inf, (0, 1))]:
        s = sg.tensor(data, requires_grad=True)
        t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        ys, yt = sg.linalg.norm(s, *args), torch.linalg.norm(t, *args)
        np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy())
        ys.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy())
        assert _node_name(ys) == _node_name(yt)


def test_logsumexp_of_empty_float32_stays_float32():
    assert sg.logsumexp(sg.ones(0, dtype=sg.float32), 0).dtype == sg.float32


# ================================================================ writing numbers, setitem
@pytest.mark.parametrize("prog,message", [
    (lambda: sg.tensor([1, 2], dtype=sg.uint8).masked_fill(sg.tensor([True, False]), 300),
     "uint8_t"),
    (lambda: sg.tensor([1, 2], dtype=sg.uint8).masked_fill(sg.tensor([True, False]),
                                                           sg.tensor(300)), "uint8_t"),
    (lambda: sg.tensor([1.0], dtype=sg.float32).masked_fill(sg.tensor([True]), 1e39), "float"),
    (lambda: sg.tensor([1, 2], dtype=sg.uint8).fill_(300), "uint8_t"),
    (lambda: sg.tensor([1], dtype=sg.int8).__setitem__(0, 128), "int8_t"),
    (lambda: sg.tensor([1.0], dtype=sg.float32).__setitem__(0, 1e39), "float"),
    (lambda: sg.tensor([1]).__setitem__(0, float("nan")), "int64_t"),
    (lambda: sg.full((2,), 300, dtype=sg.uint8), "uint8_t"),
    (lambda: sg.where(sg.tensor([True]), sg.tensor([1], dtype=sg.uint8), 300), "uint8_t"),
    (lambda: sg.clamp(sg.tensor([1], dtype=sg.uint8), 0, 300), "uint8_t"),
])
def test_numbers_out_of_the_dtype_range_are_refused(prog, message):
    # numpy raised OverflowError, or wrapped quietly (uint8 300 -> 44), or overflowed to inf
    with pytest.raises(RuntimeError, match=f"value cannot be converted to type {message}"):
        prog()


def test_numbers_written_into_small_dtypes_as_pytorch():
    u8 = sg.tensor([1, 2, 3], dtype=sg.uint8)
    assert u8.masked_fill(sg.tensor([True, False, True]), -1).tolist() == [255, 2, 255]
    assert u8.masked_fill(sg.tensor([True, False, True]), 2.7).tolist() == [2, 2, 2]
    v = u8.clone()
    v[1] = -1
    assert v.tolist() == [1, 255, 3]
    i8 = sg.tensor([1], dtype=sg.int8)
    i8[0] = -128
    assert i8.tolist() == [-128]
    assert sg.clamp(sg.tensor([1], dtype=sg.uint8), -5, 3).tolist() == [3]   # -5 is 251


def test_setitem_node_names_and_rules_as_pytorch():
    x = sg.ones(2, 3, requires_grad=True)
    for index, name in [(slice(None), "FillBackward3"), (slice(0, 10), "FillBackward3"),
                        (slice(-2, None), "CopySlices"), (slice(-10, 10), "CopySlices"),
                        ((slice(None), 1), "CopySlices"), ([0, 1], "IndexPutBackward0")]:
        y = x * 1
        y[index] = 7.0
        assert y.grad_fn.name().split("::")[-1] == name, index
    y = x * 1
    with pytest.warns(UserWarning, match="as a tuple"):   # PyTorch's deprecated reading
        y[[slice(None), 1]] = 7.0
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    y = x * 1
    y[1, 2] = sg.tensor([[5.0]])      # leading size-1 dimensions of the value are dropped
    assert y[1, 2].item() == 5.0
    with pytest.raises(RuntimeError, match="boolean masks"):
        y[sg.tensor([1, 0], dtype=sg.uint8)] = 0.0


def test_index_put_with_accumulate():
    x = sg.zeros(2, 3, requires_grad=True)
    y = x.clone().index_put_((sg.tensor([0, 0]), sg.tensor([1, 1])), sg.tensor(1.5),
                             accumulate=True)
    assert y.tolist() == [[0.0, 3.0, 0.0], [0.0, 0.0, 0.0]]
    assert y.grad_fn.name() == "IndexPutBackward0"
    z = sg.index_put(x, (sg.tensor([0, -1]),), sg.tensor([1.0, 2.0, 3.0]), accumulate=True)
    assert z.tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    (z * sg.arange(6.0).reshape(2, 3)).sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    with pytest.raises(TypeError, match="tuple of Tensors"):
        x.index_put(sg.tensor([0]), sg.tensor(1.0))
    with pytest.raises(TypeError, match="must be Tensor"):
        x.index_put((sg.tensor([0]),), 1.0)
    with pytest.raises(RuntimeError, match="dtypes match"):
        x.index_put((sg.tensor([0]),), sg.tensor(1))


def test_index_put_as_pytorch():
    torch = _torch()

    def prog(m):
        x = m.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], dtype=m.float64, requires_grad=True)
        v = m.tensor([1.5, 2.0], dtype=m.float64, requires_grad=True)
        y = x.index_put((m.tensor([0, 0]), m.tensor([1, 1])), v, accumulate=True)
        (y * m.arange(6.0, dtype=m.float64).reshape(2, 3)).sum().backward()
        return y.tolist(), x.grad.tolist(), v.grad.tolist(), _node_name(y)

    assert prog(sg) == prog(torch)


# ================================================================ conversions
def test_tensor_construction_refuses_integers_out_of_range():
    with pytest.raises(RuntimeError, match="value cannot be converted to type int8"):
        sg.tensor([1, 300], dtype=sg.int8)      # numpy's cast gave 44
    with pytest.raises(RuntimeError, match="int64"):
        sg.tensor([1e20], dtype=sg.int64)
    with pytest.raises(RuntimeError, match="int64"):
        sg.tensor(float("nan"), dtype=sg.int64)
    assert sg.tensor([1, -2], dtype=sg.uint8).tolist() == [1, 254]   # wraps, as PyTorch
    assert sg.tensor([2.5], dtype=sg.int64).tolist() == [2]


def test_scalar_conversions_of_many_entries():
    for fn in (float, int, complex):
        with pytest.raises(ValueError, match="only one element"):
            fn(sg.ones(2))
    with pytest.raises(RuntimeError, match="2 elements"):
        sg.ones(2).item()
    with pytest.raises(TypeError, match="unsupported format string"):
        format(sg.ones(1), ".2f")
    assert format(sg.tensor(2.5), ".2f") == "2.50"
    assert format(sg.ones(1)) == "tensor([1.])"


def test_conversions_as_pytorch():
    torch = _torch()

    def outcome(fn):
        try:
            return repr(fn())
        except Exception as e:  # noqa: BLE001 - the type is compared
            return type(e).__name__

    for prog in [lambda m: float(m.ones(2)), lambda m: int(m.ones(3)), lambda m: m.ones(2).item(),
                 lambda m: m.tensor([1, 300], dtype=m.int8), lambda m: f"{m.ones(1):.1f}",
                 lambda m: m.tensor([1, -2], dtype=m.uint8).tolist()]:
        assert outcome(lambda: prog(sg)) == outcome(lambda: prog(torch))


# ================================================================ order statistics, nonzero
def test_median_of_all_entries_shares_ties_as_pytorch():
    x = sg.tensor([3.0, 1.0, 3.0, 3.0], requires_grad=True)
    m = x.median()
    assert m.item() == 3.0 and m.grad_fn.name() == "MedianBackward0"
    m.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, 0.0, 1 / 3, 1 / 3])
    y = sg.tensor([1.0, 2.0, 2.0, 3.0], requires_grad=True)   # the lower median of 2, 2
    y.median().backward()
    assert y.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    z = sg.tensor([float("nan"), 1.0, float("nan")], requires_grad=True)
    assert np.isnan(z.median().item())
    z.median().backward()
    assert z.grad.tolist() == [0.5, 0.0, 0.5]
    (res,) = check_rules(["amax"], points=4)   # median() records amax's rule on the ties
    assert res.ok, res.detail


def test_order_statistics_along_a_dim():
    x = sg.tensor([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    med = x.median(1)
    assert med.values.tolist() == [3.0, 2.0] and med.values.grad_fn.name() == "MedianBackward1"
    k = x.kthvalue(1, 0, keepdim=True)
    assert k.values.tolist() == [[2.0, 1.0, 0.0]] and k.indices.tolist() == [[1, 0, 1]]
    assert k.values.grad_fn.name() == "KthvalueBackward0"
    mo = sg.tensor([5.0, 1.0, 5.0, 1.0, 3.0]).mode()
    assert (mo.values.item(), mo.indices.item()) == (1.0, 3)    # smallest, last position
    c = sg.tensor([3.0, 1.0, 3.0, 3.0], requires_grad=True).cummax(0)
    assert c.indices.tolist() == [0, 0, 2, 3] and c.values.grad_fn.name() == "CummaxBackward0"
    n = sg.tensor([2.0, 2.0, 1.0, 1.0]).cummin(0)
    assert n.indices.tolist() == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match="out of range"):
        x.kthvalue(4, 1)
    with pytest.raises(NotImplementedError, match="kthvalue_cpu"):
        sg.tensor([True]).kthvalue(1)


@pytest.mark.parametrize("data", [[3.0, 1.0, 2.0, 5.0], [1.0, float("nan"), 3.0],
                                  [[0.5, -1.0, 2.0], [2.0, 0.0, -2.0]], [5.0, 1.0, 5.0, 1.0, 3.0]])
def test_order_statistics_as_pytorch(data):
    # (no ties inside a slice here, except mode's: PyTorch picks among tied entries by
    # its own selection algorithm)
    torch = _torch()

    def run(m):
        out = []
        for name, args in [("median", ()), ("median", (-1,)), ("kthvalue", (1,)),
                           ("mode", ()), ("cummax", (-1,)), ("cummin", (0,))]:
            x = m.tensor(data, dtype=m.float64, requires_grad=True)
            r = getattr(x, name)(*args)
            v = r if name == "median" and not args else r.values
            (v * (m.arange(v.numel(), dtype=m.float64).reshape(tuple(v.shape)) + 1)).sum() \
                .backward()
            idx = None if v is r else r.indices.tolist()
            out.append((name, repr(v.tolist()), idx, _node_name(v), repr(x.grad.tolist())))
        return out

    assert run(sg) == run(torch)


def test_nonzero_and_argwhere():
    t = sg.tensor([[1, 0], [0, 3]])
    assert t.nonzero().tolist() == [[0, 0], [1, 1]] and t.nonzero().dtype == sg.int64
    assert [i.tolist() for i in sg.nonzero(t, as_tuple=True)] == [[0, 1], [0, 1]]
    assert sg.argwhere(sg.tensor([True, False, True])).tolist() == [[0], [2]]
    assert tuple(sg.tensor(5).nonzero().shape) == (1, 0)
    assert tuple(sg.nonzero(sg.zeros(2, 0)).shape) == (0, 2)


def test_other_names_of_ops():
    x = sg.tensor([-1.0, 2.0], requires_grad=True)
    assert sg.multiply(x, 2).tolist() == [-2.0, 4.0] and sg.subtract(x, 1).tolist() == [-2.0, 1.0]
    assert sg.divide(x, 2).tolist() == [-0.5, 1.0] and sg.true_divide(x, 2).tolist() == [-0.5, 1.0]
    assert sg.negative(x).tolist() == [1.0, -2.0] and sg.absolute(x).tolist() == [1.0, 2.0]
    assert sg.greater(x, 0).tolist() == [False, True] and sg.not_equal(x, 2).tolist() == [True,
                                                                                          False]
    assert sg.sgn(x).grad_fn.name() == "SgnBackward0" and x.sgn().tolist() == [-1.0, 1.0]
    assert sg.positive(x) is x
    with pytest.raises(RuntimeError, match="bool"):
        sg.positive(sg.tensor([True]))


# ================================================================ pad
@pytest.mark.parametrize("amounts", [(1, 2), (-1, 1), (1, 0, 0, 1), (2, 1, -1, 0), (-1, -1),
                                     (0, 0)])
def test_constant_pad_is_one_node_as_pytorch(amounts):
    x = sg.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], requires_grad=True)
    y = F.pad(x, amounts, value=3.0)
    assert y.grad_fn.name() == "ConstantPadNdBackward0"
    (y * sg.arange(y.numel(), dtype=sg.float64).reshape(tuple(y.shape))).sum().backward()
    xn = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
    widths = [(0, 0), (0, 0)]
    for k in range(len(amounts) // 2):
        widths[1 - k] = (amounts[2 * k], amounts[2 * k + 1])
    cropped = xn[tuple(slice(max(0, -lo), xn.shape[d] - max(0, -hi))
                       for d, (lo, hi) in enumerate(widths))]
    expected = np.pad(cropped, [(max(0, lo), max(0, hi)) for lo, hi in widths],
                      constant_values=3.0)
    assert y.tolist() == expected.tolist()
    with pytest.raises(RuntimeError, match="negative output size"):
        F.pad(x, (-4, 1))


def test_constant_pad_record_is_proved():
    (res,) = check_rules(["constant_pad"], points=4)
    assert res.ok, res.detail


def test_constant_pad_gradient_as_pytorch():
    torch = _torch()

    def run(m, F):
        x = m.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], dtype=m.float64, requires_grad=True)
        y = F.pad(x, (2, -1, -1, 1), value=-2.0)
        (y * m.arange(y.numel(), dtype=m.float64).reshape(tuple(y.shape))).sum().backward()
        return y.tolist(), x.grad.tolist(), _node_name(y)

    assert run(sg, F) == run(torch, torch.nn.functional)


# ================================================================ layer_norm, pairwise_distance
def _graph(t):
    fn = t.grad_fn

    def walk(f):
        if f is None:
            return None
        name = f.name() if callable(getattr(f, "name", None)) else type(f).__name__
        name = name.replace("torch::autograd::", "")   # PyTorch's C++ leaf node name
        return name, tuple(walk(n) for n, _ in f.next_functions if n is not None)
    return walk(fn)


def test_layer_norm_is_one_node_and_proved():
    x = sg.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], requires_grad=True)
    w = sg.tensor([1.0, 2.0, 0.5], requires_grad=True)
    b = sg.tensor([0.0, -1.0, 1.0], requires_grad=True)
    y = F.layer_norm(x, (3,), w, b)
    assert y.grad_fn.name() == "NativeLayerNormBackward0"
    assert sg.verify.check(lambda x, w, b: (F.layer_norm(x, (3,), w, b) ** 2).sum(), x.detach(),
                           w.detach(), b.detach()).ok
    (res,) = check_rules(["layer_norm"], points=4)
    assert res.ok, res.detail


def test_layer_norm_and_pairwise_distance_as_pytorch():
    torch = _torch()

    def run(m, F):
        x = m.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], dtype=m.float64, requires_grad=True)
        w = m.tensor([1.0, 2.0, 0.5], dtype=m.float64, requires_grad=True)
        y = F.layer_norm(x, (3,), w, None, 1e-3)
        d = F.pairwise_distance(x, w.detach() * 2, p=1.5)
        ((y * m.arange(6.0, dtype=m.float64).reshape(2, 3)).sum() + d.sum()).backward()
        return (np.round(y.tolist(), 12).tolist(), np.round(x.grad.tolist(), 12).tolist(),
                np.round(w.grad.tolist(), 12).tolist(), _graph(y), _graph(d))

    assert run(sg, F) == run(torch, torch.nn.functional)
