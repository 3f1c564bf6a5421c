"""nn.functional compositions (normalize, layer_norm, cosine_similarity, pairwise_distance,
one_hot, pad, embedding, dropout, softmin, softsign, tanhshrink): values, gradients, second
order and errors as PyTorch gives them, and exact against the mirror."""

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.nn import functional as F

R = np.random.default_rng(11)
A = R.standard_normal((3, 4))
B = R.standard_normal((3, 4))
IDX = [[0, 2, 0], [1, 1, 2]]


def _ns(torch_mod=None):
    """(functional module, tensor module): symgrad's, or PyTorch's when given."""
    if torch_mod is None:
        return F, sg
    import torch.nn.functional as TF

    return TF, torch_mod


# name: (program over (F, T) and inputs, returning a tensor; inputs)
PROGRAMS = {
    "normalize": (lambda F, T, a: F.normalize(a), [A]),
    "normalize_p1_dim0": (lambda F, T, a: F.normalize(a, p=1, dim=0), [A]),
    "normalize_p3_dims": (lambda F, T, a: F.normalize(a, p=3, dim=(0, 1)), [A]),
    "normalize_clamped": (lambda F, T, a: F.normalize(a * 1e-13), [A]),
    "layer_norm": (lambda F, T, a: F.layer_norm(a, (4,)), [A]),
    "layer_norm_2d": (lambda F, T, a: F.layer_norm(a, [3, 4]), [A]),
    "layer_norm_affine": (lambda F, T, a, b: F.layer_norm(a, (4,), b[0], b[1]), [A, B]),
    "layer_norm_3d": (lambda F, T, a, b: F.layer_norm(a.reshape(3, 2, 2), (2, 2),
                                                      b[0].reshape(2, 2), None, eps=0.1), [A, B]),
    "cosine_similarity": (lambda F, T, a, b: F.cosine_similarity(a, b), [A, B]),
    "cosine_similarity_dim0": (lambda F, T, a, b: F.cosine_similarity(a, b, dim=0), [A, B]),
    # the broadcast shape's norm: a's single row counts three times along dim 0
    "cosine_similarity_bcast": (lambda F, T, a, b: F.cosine_similarity(a[:1], b, dim=0),
                                [A, B]),
    "cosine_similarity_outer": (lambda F, T, a, b: F.cosine_similarity(a[:, None], b, dim=-1),
                                [A, B]),
    # norms below eps: clamped values, but the gradient still flows through the norm
    "cosine_similarity_tiny": (lambda F, T, a, b: F.cosine_similarity(a * 1e-10, b * 1e-9),
                               [A, B]),
    "pairwise_distance": (lambda F, T, a, b: F.pairwise_distance(a, b), [A, B]),
    "pairwise_distance_p": (lambda F, T, a, b: F.pairwise_distance(a, b, p=1.5, keepdim=True),
                            [A, B]),
    "pairwise_distance_inf": (lambda F, T, a, b: F.pairwise_distance(a, b[0], p=float("inf")),
                              [A, B]),
    "pad": (lambda F, T, a: F.pad(a, (1, 2)), [A]),
    "pad_crop": (lambda F, T, a: F.pad(a, (-1, 2, 1, -1), value=0.5), [A]),
    "pad_3d": (lambda F, T, a: F.pad(a.reshape(3, 2, 2), (0, 0, 1, 1, 2, 0), value=-2), [A]),
    "pad_crop_only": (lambda F, T, a: F.pad(a, (-1, -1)), [A]),
    "pad_nothing": (lambda F, T, a: F.pad(a, ()), [A]),
    "embedding": (lambda F, T, w: F.embedding(T.tensor(IDX), w), [A]),
    "embedding_padding": (lambda F, T, w: F.embedding(T.tensor(IDX), w, padding_idx=1), [A]),
    "embedding_padding_neg": (lambda F, T, w: F.embedding(T.tensor(IDX, dtype=T.int32), w,
                                                          padding_idx=-1), [A]),
    "softmin": (lambda F, T, a: F.softmin(a, dim=1), [A]),
    "softmin_dtype": (lambda F, T, a: F.softmin(a, 0, dtype=T.float32), [A]),
    "softsign": (lambda F, T, a: F.softsign(a), [A]),
    "tanhshrink": (lambda F, T, a: F.tanhshrink(a), [A]),
}


def _np(t):
    t = t.detach()
    return t.numpy(force=True) if hasattr(t, "is_neg") else t.numpy()


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_values_gradients_and_second_order_match_pytorch(name):
    torch = pytest.importorskip("torch")
    f, arrays = PROGRAMS[name]
    ours = [sg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_s, out_t = f(*_ns(), *ours), f(*_ns(torch), *theirs)
    assert out_s.dtype.name == str(out_t.dtype).removeprefix("torch.")
    assert tuple(out_s.shape) == tuple(out_t.shape)
    loose = 1e6 if out_t.dtype == torch.float32 else 1.0   # a float32 result: float32 digits
    np.testing.assert_allclose(_np(out_s), _np(out_t), rtol=1e-12 * loose, atol=1e-15 * loose)
    ct = R.standard_normal(tuple(out_t.shape))
    g_s = sg.autograd.grad(out_s, ours, sg.tensor(ct).to(out_s.dtype), create_graph=True)
    g_t = torch.autograd.grad(out_t, theirs, torch.tensor(ct).to(out_t.dtype),
                              create_graph=True)
    for s, t in zip(g_s, g_t):
        np.testing.assert_allclose(_np(s), _np(t), rtol=1e-10 * loose, atol=1e-12 * loose)
    assert [g.requires_grad for g in g_s] == [g.requires_grad for g in g_t]
    if not any(g.requires_grad for g in g_t):   # linear in the inputs: no second order
        return
    h_s = sg.autograd.grad(sum((g * g).sum() for g in g_s), ours, allow_unused=True)
    h_t = torch.autograd.grad(sum((g * g).sum() for g in g_t), theirs, allow_unused=True)
    for s, t in zip(h_s, h_t):
        np.testing.assert_allclose(0 if s is None else _np(s), 0 if t is None else _np(t),
                                   rtol=1e-9 * loose, atol=1e-10 * loose)


# scalar programs, small inputs: the verifier proves them against SymPy's derivatives
SMALL_A, SMALL_B = A[:2, :3], B[:2, :3]
CHECKED = {
    "normalize": (lambda x: F.normalize(x).pow(3).sum(), [SMALL_A]),
    "normalize_clamped": (lambda x: F.normalize(x * 1e-13, p=1).sin().sum(), [SMALL_A]),
    "layer_norm": (lambda x: F.layer_norm(x, (3,)).pow(2).mul(sg.arange(3.0)).sum(), [SMALL_A]),
    "layer_norm_affine": (lambda x, w: F.layer_norm(x, (3,), w[0], w[1]).exp().sum(),
                          [SMALL_A, SMALL_B]),
    "cosine_similarity": (lambda x, y: F.cosine_similarity(x, y).exp().sum(), [SMALL_A, SMALL_B]),
    "cosine_similarity_tiny": (lambda x, y: F.cosine_similarity(x * 1e-10, y).exp().sum(),
                               [SMALL_A, SMALL_B]),
    "pairwise_distance": (lambda x, y: F.pairwise_distance(x, y).sum(), [SMALL_A, SMALL_B]),
    "pad": (lambda x: F.pad(x, (1, -1, 0, 2), value=0.5).exp()
            .mul(sg.arange(12.0).reshape(4, 3)).sum(), [SMALL_A]),
    "embedding": (lambda w: F.embedding(sg.tensor([[0, 1, 0], [1, 1, 0]]), w, padding_idx=1)
                  .sin().sum(), [SMALL_A]),
    "softmin_softsign_tanhshrink": (lambda x: (F.softmin(x, 1) + F.softsign(x)
                                               + F.tanhshrink(x)).pow(2).sum(), [SMALL_A]),
}


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_exact_against_the_mirror_first_and_second_order(name):
    f, arrays = CHECKED[name]
    assert verify.check(f, *[sg.tensor(a) for a in arrays]).ok
    assert verify.check(f, *[sg.tensor(a) for a in arrays], order=2).ok


def test_compositions_run_on_symbolic_tensors():
    import sympy

    a = sg.symbolic.symbols("a", (2, 3))
    b = sg.symbolic.symbols("b", (2, 3))
    point = {s: v for s, v in zip(a._data.flat, SMALL_A.flat)}
    point.update({s: v for s, v in zip(b._data.flat, SMALL_B.flat)})
    cases = [
        lambda x, y: F.normalize(x),
        lambda x, y: F.layer_norm(x, (3,), y[0], y[1]),
        lambda x, y: F.cosine_similarity(x, y),
        lambda x, y: F.pairwise_distance(x, y),
        lambda x, y: F.pad(x, (1, -1, 1, 0), value=2),
        lambda x, y: F.embedding(sg.tensor([1, 0, 1]), x, padding_idx=0),
        lambda x, y: F.softmin(x, 1) + F.softsign(y) + F.tanhshrink(x),
    ]
    for f in cases:
        sym = f(a, b)
        assert sym.dtype.name == "symbolic"
        num = f(sg.tensor(SMALL_A), sg.tensor(SMALL_B))
        values = np.array([float(sympy.sympify(e).subs(point)) for e in np.ravel(sym._data)])
        np.testing.assert_allclose(values.reshape(num.shape), num.numpy(), rtol=1e-12)


# ================================================================ particulars
def test_layer_norm_uses_the_biased_variance():
    v = np.array([1.0, 2.0, 4.0])
    expected = (v - v.mean()) / np.sqrt(v.var() + 1e-5)    # numpy's var divides by n
    np.testing.assert_allclose(F.layer_norm(sg.tensor(v[None]), (3,)).numpy()[0], expected,
                               rtol=1e-14)


def test_layer_norm_float32_and_float16():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    x = A.astype(np.float32)
    out = F.layer_norm(sg.tensor(x), (4,), sg.ones(4, dtype=sg.float32))
    ref = TF.layer_norm(torch.tensor(x), (4,), torch.ones(4, dtype=torch.float32))
    assert out.dtype == sg.float32
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    h = F.layer_norm(sg.tensor(x).to(sg.float16), (4,), sg.ones(4, dtype=sg.float32))
    h_ref = TF.layer_norm(torch.tensor(x).half(), (4,), torch.ones(4, dtype=torch.float32))
    assert h.dtype == sg.float16
    np.testing.assert_allclose(h.numpy().astype(float), h_ref.numpy().astype(float), atol=2e-3)


def test_cosine_similarity_dtypes_and_zero_vectors():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    x32 = A.astype(np.float32)
    out = F.cosine_similarity(sg.tensor(x32), sg.tensor(B))
    ref = TF.cosine_similarity(torch.tensor(x32), torch.tensor(B))
    assert out.dtype.name == str(ref.dtype).removeprefix("torch.")
    ints = F.cosine_similarity(sg.tensor([[1, 2, 3]]), sg.tensor([[1.0, 0.0, 1.0]]))
    assert ints.dtype == sg.float64
    zero = F.cosine_similarity(sg.zeros(2, 4), sg.tensor(B[:2]))
    np.testing.assert_array_equal(zero.numpy(), [0.0, 0.0])
    scalar = F.cosine_similarity(sg.tensor(2.0), sg.tensor(-3.0), dim=0)
    assert scalar.shape == () and scalar.item() == -1.0


def test_normalize_and_pairwise_distance_shapes_like_pytorch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    for f in (lambda F, T: F.normalize(T.tensor(3.0), dim=0),
              lambda F, T: F.normalize(T.zeros(2, 0, dtype=T.float64)),
              lambda F, T: F.pairwise_distance(T.tensor([1.0, 2.0]), T.tensor([0.0, 2.0])),
              lambda F, T: F.pairwise_distance(T.tensor(1.0), T.tensor(3.0)),
              lambda F, T: F.pairwise_distance(T.tensor([1, 2, 3]), T.tensor([[0, 2, 1]]),
                                               keepdim=True),
              lambda F, T: F.pairwise_distance(T.zeros(2, 3, dtype=T.float64),
                                               T.zeros(2, 1, 3, dtype=T.float64))):
        s, t = f(F, sg), f(TF, torch)
        assert tuple(s.shape) == tuple(t.shape)
        # (integers and eps give a float32 result in torch, float64 here: default dtypes)
        np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-6)


def test_one_hot_values_dtype_and_no_grad():
    out = F.one_hot(sg.tensor([0, 2, 1]))
    assert out.dtype == sg.int64 and not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(sg.tensor([[0, 1], [2, 0]]), 4).shape == (2, 2, 4)
    assert F.one_hot(sg.tensor(2), 3).tolist() == [0, 0, 1]
    empty = F.one_hot(sg.tensor(np.zeros(0, dtype=np.int64)), 3)
    assert empty.shape == (0, 3) and empty.dtype == sg.int64


def test_one_hot_matches_pytorch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    for idx, n in (([3, 0, 1], -1), ([[1, 1], [0, 4]], 6), ([2], 3)):
        np.testing.assert_array_equal(F.one_hot(sg.tensor(idx), n).numpy(),
                                      TF.one_hot(torch.tensor(idx), n).numpy())


def test_pad_keeps_integer_and_bool_dtypes():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    for data, value in (([1, 2, 3], 1.7), ([1, 2, 3], -1.5), ([True, False], 0.5),
                        (np.array([1.0, 2.0]), float("nan")), (np.array([1.0, 2.0]), True)):
        s = F.pad(sg.tensor(data), (1, 2), value=value)
        t = TF.pad(torch.tensor(data), (1, 2), value=value)
        assert s.dtype.name == str(t.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(s.numpy(), t.numpy())
    f32 = F.pad(sg.tensor(A, dtype=sg.float32), (0, 1), value=float("inf"))
    assert f32.dtype == sg.float32 and np.isinf(f32.numpy()[:, -1]).all()


def test_pad_returns_a_new_tensor_in_the_graph():
    x = sg.tensor(A, requires_grad=True)
    y = F.pad(x, (0, 0))
    assert y is not x and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones_like(A))


def test_embedding_gradient_accumulates_and_skips_padding_row():
    w = sg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = F.embedding(sg.tensor([[0, 2, 0], [3, 3, 1]]), w, padding_idx=0)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.detach().numpy()[0, 0], [0.0, 1.0, 2.0])  # returned
    (out * sg.arange(18.0).reshape(2, 3, 3)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0, 0], [15, 16, 17], [3, 4, 5],
                                                   [21, 23, 25]])


def test_embedding_max_norm_renormalises_in_place_like_pytorch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    w_s = sg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    w_t = torch.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    o_s = F.embedding(sg.tensor([1, 1, 2]), w_s, max_norm=2.0)
    o_t = TF.embedding(torch.tensor([1, 1, 2]), w_t, max_norm=2.0)
    np.testing.assert_allclose(w_s.detach().numpy(), w_t.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(o_s.detach().numpy(), o_t.detach().numpy(), rtol=1e-14)
    o_s.sum().backward()
    o_t.sum().backward()
    np.testing.assert_array_equal(w_s.grad.numpy(), w_t.grad.numpy())


# ================================================================ dropout
def test_dropout_identity_cases_return_the_input():
    x = sg.tensor(A, requires_grad=True)
    assert F.dropout(x, training=False) is x
    assert F.dropout(x, p=0.0) is x
    assert F.dropout(x, 0.7, False, inplace=True) is x
    empty = sg.zeros(0)
    assert F.dropout(empty) is empty


def test_dropout_training_zeroes_or_scales_and_the_gradient_is_the_mask():
    sg.manual_seed(3)
    x = sg.tensor(R.uniform(1.0, 2.0, (20, 30)), requires_grad=True)
    for p in (0.2, 0.5, 0.9):
        x.grad = None
        out = F.dropout(x, p)
        assert out.grad_fn.name() == "MulBackward0"
        o, xv = out.detach().numpy(), x.detach().numpy()
        kept = o != 0
        np.testing.assert_allclose(o[kept], xv[kept] / (1 - p), rtol=1e-15)
        assert 0.5 * (1 - p) < kept.mean() < 1.5 * (1 - p)      # 600 draws
        out.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-15)


def test_dropout_is_reproducible_with_manual_seed_and_float32_stays_float32():
    x = sg.tensor(A, dtype=sg.float32)
    sg.manual_seed(5)
    first = F.dropout(x, 0.5).numpy()
    sg.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), first)
    assert F.dropout(x, 0.5).dtype == sg.float32


def test_dropout_p_one_and_in_place():
    x = sg.tensor(A, requires_grad=True)
    out = F.dropout(x, 1.0)
    np.testing.assert_array_equal(out.detach().numpy(), np.zeros_like(A))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(A))
    y = sg.tensor(A)
    before = y.numpy().copy()
    r = F.dropout(y, 0.5, inplace=True)
    assert r is y
    kept = y.numpy() != 0
    np.testing.assert_allclose(y.numpy()[kept], before[kept] * 2, rtol=1e-15)


# ================================================================ errors as PyTorch raises them
ERRORS = {
    "normalize_int": lambda F, T: F.normalize(T.tensor([1, 2]), dim=0),
    "normalize_dim": lambda F, T: F.normalize(T.tensor([1.0, 2.0])),
    "layer_norm_int_shape": lambda F, T: F.layer_norm(T.ones(2, 3), 3),
    "layer_norm_float_in_shape": lambda F, T: F.layer_norm(T.ones(2, 3), (3.0,)),
    "layer_norm_empty_shape": lambda F, T: F.layer_norm(T.ones(2, 3), ()),
    "layer_norm_wrong_shape": lambda F, T: F.layer_norm(T.ones(2, 3), (2,)),
    "layer_norm_too_many_dims": lambda F, T: F.layer_norm(T.ones(3), (2, 3)),
    "layer_norm_weight_shape": lambda F, T: F.layer_norm(T.ones(2, 3), (3,), T.ones(2)),
    "layer_norm_bias_shape": lambda F, T: F.layer_norm(T.ones(2, 3), (3,), None, T.ones(1, 3)),
    "layer_norm_integer_input": lambda F, T: F.layer_norm(T.tensor([[1, 2]]), (2,)),
    "layer_norm_mixed_dtype": lambda F, T: F.layer_norm(
        T.ones(2, 3, dtype=T.float64), (3,), T.ones(3, dtype=T.float32)),
    "layer_norm_mixed_dtype_f32": lambda F, T: F.layer_norm(
        T.ones(2, 3, dtype=T.float32), (3,), T.ones(3, dtype=T.float64)),
    "layer_norm_list_input": lambda F, T: F.layer_norm([1.0, 2.0], (2,)),
    "cosine_integers": lambda F, T: F.cosine_similarity(T.tensor([[1, 2]]), T.tensor([[1, 2]])),
    "cosine_broadcast": lambda F, T: F.cosine_similarity(T.ones(2, 3), T.ones(4, 3)),
    "cosine_dim": lambda F, T: F.cosine_similarity(T.ones(2, 3), T.ones(2, 3), dim=2),
    "cosine_float_dim": lambda F, T: F.cosine_similarity(T.ones(2, 3), T.ones(2, 3), dim=1.0),
    "cosine_negative_eps": lambda F, T: F.cosine_similarity(T.ones(2, 3), T.ones(2, 3), eps=-1),
    "cosine_list": lambda F, T: F.cosine_similarity([1.0], T.ones(1)),
    "pairwise_broadcast": lambda F, T: F.pairwise_distance(T.ones(2, 3), T.ones(4, 3)),
    "pairwise_eps_none": lambda F, T: F.pairwise_distance(T.ones(2, 3), T.ones(2, 3), eps=None),
    "one_hot_too_small": lambda F, T: F.one_hot(T.tensor([0, 2, 1]), 2),
    "one_hot_negative": lambda F, T: F.one_hot(T.tensor([0, -2, 1]), 5),
    "one_hot_negative_inferred": lambda F, T: F.one_hot(T.tensor([0, -2, 1])),
    "one_hot_int32": lambda F, T: F.one_hot(T.tensor([0, 1], dtype=T.int32), 3),
    "one_hot_float": lambda F, T: F.one_hot(T.tensor([0.0, 1.0]), 3),
    "one_hot_empty_inferred": lambda F, T: F.one_hot(T.tensor([1])[:0]),
    "one_hot_zero_classes": lambda F, T: F.one_hot(T.tensor([0]), 0),
    "one_hot_negative_classes": lambda F, T: F.one_hot(T.tensor([0]), -3),
    "one_hot_float_classes": lambda F, T: F.one_hot(T.tensor([0]), 3.0),
    "one_hot_list": lambda F, T: F.one_hot([0, 1], 3),
    "pad_odd": lambda F, T: F.pad(T.ones(2, 3), (1,)),
    "pad_too_long": lambda F, T: F.pad(T.ones(2, 3), (1, 1, 1, 1, 1, 1)),
    "pad_0d": lambda F, T: F.pad(T.tensor(3.0), (1, 1)),
    "pad_crop_too_much": lambda F, T: F.pad(T.ones(2, 3), (-2, -2)),
    "pad_crop_before_padding": lambda F, T: F.pad(T.ones(2, 3), (1, -4)),
    "pad_float_amount": lambda F, T: F.pad(T.ones(2, 3), (1.5, 1)),
    "pad_bool_amount": lambda F, T: F.pad(T.ones(2, 3), (True, 1)),
    "pad_tensor_amount": lambda F, T: F.pad(T.ones(2, 3), T.tensor([1, 1])),
    "pad_bad_mode": lambda F, T: F.pad(T.ones(2, 3), (1, 1), mode="bogus"),
    "pad_bad_mode_first": lambda F, T: F.pad(T.ones(2, 3), (1,), mode="bogus"),
    "pad_reflect_value": lambda F, T: F.pad(T.ones(2, 3), (1, 1), mode="reflect", value=2),
    "pad_complex_value": lambda F, T: F.pad(T.ones(2, 3), (1, 1), value=1 + 2j),
    "pad_str_value": lambda F, T: F.pad(T.ones(2, 3), (1, 1), value="a"),
    "pad_int_overflow": lambda F, T: F.pad(T.tensor([1], dtype=T.int8), (1, 1), value=200),
    "pad_uint_negative": lambda F, T: F.pad(T.tensor([1], dtype=T.uint8), (1, 1), value=-1),
    "pad_int_inf": lambda F, T: F.pad(T.tensor([1]), (1, 1), value=float("inf")),
    "pad_float32_overflow": lambda F, T: F.pad(T.ones(2, dtype=T.float32), (1, 1), value=1e300),
    "pad_list": lambda F, T: F.pad([1.0], (1, 1)),
    "embedding_padding_too_big": lambda F, T: F.embedding(T.tensor([0]), T.ones(4, 3),
                                                          padding_idx=4),
    "embedding_padding_too_small": lambda F, T: F.embedding(T.tensor([0]), T.ones(4, 3),
                                                            padding_idx=-5),
    "embedding_float_padding": lambda F, T: F.embedding(T.tensor([0]), T.ones(4, 3),
                                                        padding_idx=1.5),
    "embedding_float_indices": lambda F, T: F.embedding(T.tensor([0.0]), T.ones(4, 3)),
    "embedding_short_indices": lambda F, T: F.embedding(T.tensor([0], dtype=T.int16),
                                                        T.ones(4, 3)),
    "embedding_index_too_big": lambda F, T: F.embedding(T.tensor([4]), T.ones(4, 3)),
    "embedding_index_negative": lambda F, T: F.embedding(T.tensor([-1]), T.ones(4, 3)),
    "embedding_1d_weight": lambda F, T: F.embedding(T.tensor([1]), T.ones(4)),
    "embedding_list": lambda F, T: F.embedding([1], T.ones(4, 3)),
    "dropout_p_big": lambda F, T: F.dropout(T.ones(3), 1.5),
    "dropout_p_negative": lambda F, T: F.dropout(T.ones(3), -0.1, training=False),
    "dropout_integers": lambda F, T: F.dropout(T.tensor([1, 2, 3]), 0.5),
    "dropout_inplace_leaf": lambda F, T: F.dropout(T.ones(3, requires_grad=True), 0.5,
                                                   inplace=True),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_invalid_arguments_raise_what_pytorch_raises(name):
    torch = pytest.importorskip("torch")
    f = ERRORS[name]
    with pytest.raises(Exception) as theirs:
        f(*_ns(torch))
    with pytest.raises(theirs.type):
        f(*_ns())


def test_error_messages_read_as_pytorch():
    for f, message in (
            (lambda: F.one_hot(sg.tensor([0, 3]), 2),
             "Class values must be smaller than num_classes."),
            (lambda: F.one_hot(sg.tensor([-1])), "Class values must be non-negative."),
            (lambda: F.pad(sg.ones(2, 3), (1,)), "Padding length must be divisible by 2"),
            (lambda: F.layer_norm(sg.ones(2, 3), (2,)),
             r"Given normalized_shape=\[2\], expected input with shape \[\*, 2\], but got input "
             r"of size\[2, 3\]"),
            (lambda: F.dropout(sg.ones(2), 2), "dropout probability has to be between 0 and 1, "
                                               "but got 2"),
            (lambda: F.embedding(sg.tensor([5]), sg.ones(4, 3)), "index out of range in self"),
            (lambda: F.cosine_similarity(sg.ones(1, 2), sg.ones(1, 2), eps=-1),
             "eps must be non-negative, got: -1")):
        with pytest.raises(Exception, match=message):
            f()


def test_unsupported_options_say_so():
    with pytest.raises(NotImplementedError):
        F.embedding(sg.tensor([0]), sg.ones(2, 2), scale_grad_by_freq=True)
    with pytest.raises(NotImplementedError):
        F.embedding(sg.tensor([0]), sg.ones(2, 2), sparse=True)
    # (pad's reflect / replicate / circular modes: tests/test_nn_conv_modules.py)


def test_softmin_without_dim_warns_as_pytorch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        out = F.softmin(sg.tensor(A))
    np.testing.assert_allclose(out.numpy(), F.softmin(sg.tensor(A), 1).numpy())
