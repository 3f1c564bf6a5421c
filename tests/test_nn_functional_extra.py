"""The nn.functional activations and losses added last (selu ... rrelu, margin_ranking_loss
... gaussian_nll_loss): values, dtypes, input gradients and node names as PyTorch gives them,
kink conventions included, and exact against the mirrors."""

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.nn import functional as F

R = np.random.default_rng(23)
A = R.standard_normal((3, 4))
B = R.standard_normal((3, 4))
C = R.standard_normal((3, 4))
POS = R.uniform(0.2, 3.0, (3, 4))
# every activation's kinks, hit exactly
KINKS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 2.0, -2.0, 0.25])
SIGNS = np.where(R.standard_normal((3, 4)) > 0, 1.0, -1.0)
SIGN3 = np.array([1.0, -1.0, 1.0])
BITS = (R.standard_normal((3, 4)) > 0).astype(float)
COUNTS = np.array([[0.0, 1.0, 2.0, 5.0], [3.0, 0.0, 1.0, 7.0], [2.0, 4.0, 0.5, 1.5]])
CLASS = [2, 0, 3]


def _acts(name, f):
    return {f"{name}": (f, [A * 3]), f"{name}_kinks": (f, [KINKS])}


# name: (program over (F, T, *tensors), input arrays)
PROGRAMS = {
    **_acts("selu", lambda F, T, x: F.selu(x)),
    **_acts("celu", lambda F, T, x: F.celu(x, alpha=0.5)),
    **_acts("celu_default", lambda F, T, x: F.celu(x)),
    **_acts("mish", lambda F, T, x: F.mish(x)),
    **_acts("hardswish", lambda F, T, x: F.hardswish(x)),
    **_acts("hardsigmoid", lambda F, T, x: F.hardsigmoid(x)),
    **_acts("hardshrink", lambda F, T, x: F.hardshrink(x)),
    **_acts("hardshrink_1", lambda F, T, x: F.hardshrink(x, 1.0)),
    **_acts("softshrink", lambda F, T, x: F.softshrink(x)),
    **_acts("softshrink_1", lambda F, T, x: F.softshrink(x, lambd=1.0)),
    **_acts("threshold", lambda F, T, x: F.threshold(x, 0.5, -2.0)),
    **_acts("rrelu_eval", lambda F, T, x: F.rrelu(x)),
    **_acts("rrelu_eval_bounds", lambda F, T, x: F.rrelu(x, 0.1, 0.5)),
    **_acts("gelu_tanh", lambda F, T, x: F.gelu(x, approximate="tanh")),
    "selu_inplace": (lambda F, T, x: F.selu(x * 1, inplace=True), [KINKS]),
    "selu_": (lambda F, T, x: F.selu_(x * 1), [A]),
    "celu_": (lambda F, T, x: F.celu_(x * 1, 2.0), [A]),
    "threshold_": (lambda F, T, x: F.threshold_(x * 1, 0.0, 1.0), [KINKS]),
    "threshold_inplace": (lambda F, T, x: F.threshold(x * 1, 0.1, 0.3, inplace=True), [A]),
    "hardswish_inplace": (lambda F, T, x: F.hardswish(x * 1, inplace=True), [A * 3]),
    "hardsigmoid_inplace": (lambda F, T, x: F.hardsigmoid(x * 1, True), [A * 3]),
    "mish_inplace": (lambda F, T, x: F.mish(x * 1, inplace=True), [A]),
    "rrelu_": (lambda F, T, x: F.rrelu_(x * 1), [A]),
    "glu": (lambda F, T, x: F.glu(x), [A]),
    "glu_dim0": (lambda F, T, x: F.glu(x.reshape(4, 3), 0), [A]),
    "prelu_one": (lambda F, T, x, w: F.prelu(x, w[0, :1]), [A, B]),
    "prelu_channels": (lambda F, T, x, w: F.prelu(x.reshape(1, 3, 4), w[0, :3]), [A, B]),
    "prelu_channels_4d": (lambda F, T, x, w: F.prelu(x.reshape(2, 3, 2, 1), w[0, :3]), [A, B]),
    "prelu_kinks": (lambda F, T, x, w: F.prelu(x.reshape(2, 5), w.reshape(-1)[:5]), [KINKS, B]),
    # losses
    **{f"margin_ranking_{r}": (lambda F, T, a, b, r=r: F.margin_ranking_loss(
        a, b, T.tensor(SIGNS), margin=0.3, reduction=r), [A, B]) for r in ("none", "mean", "sum")},
    "margin_ranking_kink": (lambda F, T, a, b: F.margin_ranking_loss(
        a, b, T.tensor(SIGNS)), [A, A]),
    **{f"hinge_embedding_{r}": (lambda F, T, a, r=r: F.hinge_embedding_loss(
        a, T.tensor(SIGNS), reduction=r), [A]) for r in ("none", "mean", "sum")},
    "hinge_embedding_margin": (lambda F, T, a: F.hinge_embedding_loss(
        a, T.tensor(SIGNS[:2]), margin=0.5), [KINKS[:8].reshape(2, 4)]),
    **{f"soft_margin_{r}": (lambda F, T, a, r=r: F.soft_margin_loss(
        a * 10, T.tensor(SIGNS), reduction=r), [A]) for r in ("none", "mean", "sum")},
    **{f"multilabel_soft_margin_{r}": (lambda F, T, a, r=r: F.multilabel_soft_margin_loss(
        a, T.tensor(BITS), reduction=r), [A]) for r in ("none", "mean", "sum")},
    "multilabel_soft_margin_weight": (lambda F, T, a, w: F.multilabel_soft_margin_loss(
        a, T.tensor(BITS), weight=w[0].abs()), [A, B]),
    **{f"cosine_embedding_{r}": (lambda F, T, a, b, r=r: F.cosine_embedding_loss(
        a, b, T.tensor(SIGN3), margin=0.1, reduction=r), [A, B]) for r in ("none", "mean", "sum")},
    "cosine_embedding_1d": (lambda F, T, a, b: F.cosine_embedding_loss(
        a[0], b[0], T.tensor(-1.0)), [A, B]),
    **{f"poisson_nll_{r}": (lambda F, T, a, r=r: F.poisson_nll_loss(
        a, T.tensor(COUNTS), reduction=r), [A]) for r in ("none", "mean", "sum")},
    "poisson_nll_full": (lambda F, T, a: F.poisson_nll_loss(a, T.tensor(COUNTS), full=True),
                         [A]),
    "poisson_nll_rates": (lambda F, T, a: F.poisson_nll_loss(
        a, T.tensor(COUNTS), log_input=False, full=True, reduction="sum"), [POS]),
    **{f"gaussian_nll_{r}": (lambda F, T, a, b, v, r=r: F.gaussian_nll_loss(
        a, b, v, reduction=r), [A, B, POS]) for r in ("none", "mean", "sum")},
    "gaussian_nll_full_clamped": (lambda F, T, a, b, v: F.gaussian_nll_loss(
        a, b, v * 1e-7, full=True, eps=1e-6), [A, B, POS]),
    "gaussian_nll_var_per_row": (lambda F, T, a, b, v: F.gaussian_nll_loss(
        a, b, v[:, 0]), [A, B, POS]),
    "gaussian_nll_var_column": (lambda F, T, a, b, v: F.gaussian_nll_loss(
        a, b, v[:, :1]), [A, B, POS]),
    **{f"triplet_margin_{r}": (lambda F, T, a, p, n, r=r: F.triplet_margin_loss(
        a, p, n, reduction=r), [A, B, C]) for r in ("none", "mean", "sum")},
    "triplet_margin_p1_swap": (lambda F, T, a, p, n: F.triplet_margin_loss(
        a, p, n, margin=2.0, p=1, swap=True), [A, B, C]),
    **{f"multi_margin_{r}": (lambda F, T, a, r=r: F.multi_margin_loss(
        a, T.tensor(CLASS), reduction=r), [A]) for r in ("none", "mean", "sum")},
    "multi_margin_p2_weight": (lambda F, T, a, w: F.multi_margin_loss(
        a, T.tensor(CLASS), p=2, margin=0.7, weight=w[0].abs().detach()), [A, B]),
    "multi_margin_1d": (lambda F, T, a: F.multi_margin_loss(a[0], T.tensor(1)), [A]),
    "multi_margin_kink": (lambda F, T, a: F.multi_margin_loss(
        a, T.tensor([0, 1, 2]), margin=0.0), [np.ones((3, 4))]),
}

X435 = R.standard_normal((4, 3, 5))
W3, B3 = R.standard_normal(3), R.standard_normal(3)
BILINEAR_W = R.standard_normal((2, 4, 5))
FOLD_IN = R.standard_normal((2, 9, 2))
PROGRAMS.update({
    "batch_norm_train": (lambda F, T, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         [X435, W3, B3]),
    "batch_norm_train_2d": (lambda F, T, x: F.batch_norm(x, None, None, training=True,
                                                         eps=0.1), [A]),
    "batch_norm_eval": (lambda F, T, x, w, b: F.batch_norm(
        x, T.tensor(B3), T.tensor(W3).abs(), w, b, training=False), [X435, W3, B3]),
    "instance_norm": (lambda F, T, x, w, b: F.instance_norm(x, weight=w, bias=b),
                      [X435, W3, B3]),
    "group_norm": (lambda F, T, x, w: F.group_norm(x.reshape(2, 6, 5), 3, w.reshape(-1)[:6]),
                   [X435, A]),
    "group_norm_one_group": (lambda F, T, x: F.group_norm(x, 1, eps=0.5), [X435]),
    "rms_norm": (lambda F, T, x, w: F.rms_norm(x, (5,), w[0]), [X435, X435[0]]),
    "rms_norm_2d_default_eps": (lambda F, T, x: F.rms_norm(x * 1e-5, [3, 5]), [X435]),
    "pdist": (lambda F, T, x: F.pdist(x), [A]),
    "pdist_p1": (lambda F, T, x: F.pdist(x, p=1), [A]),
    "pdist_p3": (lambda F, T, x: F.pdist(x, 3.0), [A]),
    "bilinear": (lambda F, T, x, y, w, b: F.bilinear(x, y, w, b[:2]),
                 [A, X435[0], BILINEAR_W, B3]),
    "bilinear_no_bias": (lambda F, T, x, y, w: F.bilinear(x, y, w), [A, X435[0], BILINEAR_W]),
    "unfold": (lambda F, T, x: F.unfold(x.reshape(2, 2, 5, 3), (2, 3)), [X435]),
    "unfold_strided": (lambda F, T, x: F.unfold(x.reshape(1, 2, 6, 5), 3, dilation=(1, 2),
                                                padding=1, stride=2), [X435]),
    "unfold_unbatched": (lambda F, T, x: F.unfold(x, 2), [X435]),
    "fold": (lambda F, T, x: F.fold(x.reshape(1, 6, 10), (3, 7), (2, 3)), [X435]),
    "fold_strided": (lambda F, T, x: F.fold(x, (4, 3), 3, padding=1, stride=(2, 1),
                                            dilation=(1, 2)), [FOLD_IN]),
    "fold_unbatched": (lambda F, T, x: F.fold(x.reshape(4, 15), (6, 7), 2, stride=(1, 2)),
                       [X435]),
})

# PyTorch fuses some compositions into one node; symgrad records the composed ops
COMPOSED_NODES = ("glu", "rrelu_", "margin_ranking", "hinge", "multilabel", "cosine", "poisson",
                  "gaussian", "triplet", "multi_margin", "batch_norm", "instance_norm",
                  "group_norm", "rms_norm", "pdist", "bilinear", "unfold", "fold")


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_values_gradients_and_nodes_match_pytorch(torch64, name):
    torch = torch64
    import torch.nn.functional as TF

    f, arrays = PROGRAMS[name]
    ours = [sg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_s, out_t = f(F, sg, *ours), f(TF, torch, *theirs)
    assert out_s.dtype.name == str(out_t.dtype).removeprefix("torch.")
    assert tuple(out_s.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(_np(out_s), _np(out_t), rtol=1e-13, atol=1e-15)
    if not name.startswith(COMPOSED_NODES):
        assert type(out_s.grad_fn).__name__ == type(out_t.grad_fn).__name__
    ct = np.random.default_rng(1).standard_normal(tuple(out_t.shape))
    g_s = sg.autograd.grad(out_s, ours, sg.tensor(ct), allow_unused=True)
    g_t = torch.autograd.grad(out_t, theirs, torch.tensor(ct), allow_unused=True)
    # PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32, even in float64
    rtol = 1e-7 if name.startswith("hardsigmoid") else 1e-12
    for s, t in zip(g_s, g_t):
        np.testing.assert_allclose(0 if s is None else _np(s), 0 if t is None else _np(t),
                                   rtol=rtol, atol=1e-14)


@pytest.mark.parametrize("name", ["selu", "hardswish", "softshrink", "threshold", "prelu_one",
                                  "soft_margin_none", "rrelu_eval"])
def test_float32_stays_float32(torch64, name):
    torch = torch64
    import torch.nn.functional as TF

    f, arrays = PROGRAMS[name]
    ours = [sg.tensor(a, dtype=sg.float32) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float32) for a in arrays]
    out_s, out_t = f(F, sg, *ours), f(TF, torch, *theirs)
    assert out_s.dtype == sg.float32 and out_t.dtype == torch.float32
    np.testing.assert_allclose(_np(out_s), _np(out_t), rtol=1e-6, atol=1e-6)


def test_in_place_forms_write_into_the_input():
    x = sg.tensor([-1.0, 0.5, 2.0])
    assert F.selu_(x) is x and x[0].item() == pytest.approx(F.selu(sg.tensor(-1.0)).item())
    y = sg.tensor([-1.0, 0.5, 2.0])
    assert F.threshold(y, 1.0, 7.0, inplace=True) is y
    assert y.tolist() == [7.0, 7.0, 2.0]


def test_rrelu_training_draws_slopes_from_the_generator():
    x = sg.tensor(-np.ones(1000), requires_grad=True)
    sg.manual_seed(3)
    a = F.rrelu(x, 0.1, 0.3, training=True)
    sg.manual_seed(3)
    b = F.rrelu(x, 0.1, 0.3, training=True)
    assert np.array_equal(_np(a), _np(b))
    slopes = -_np(a)
    assert slopes.min() >= 0.1 and slopes.max() < 0.3 and slopes.std() > 0.03
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), slopes)
    pos = sg.tensor([1.0, 2.0])
    assert F.rrelu(pos, training=True).tolist() == [1.0, 2.0]


def test_batch_norm_updates_running_statistics_in_place(torch64):
    torch = torch64
    import torch.nn.functional as TF

    stats_s, stats_t = (sg.zeros(3), sg.ones(3)), (torch.zeros(3), torch.ones(3))
    for _ in range(2):
        F.batch_norm(sg.tensor(X435), *stats_s, training=True, momentum=0.3)
        TF.batch_norm(torch.tensor(X435), *stats_t, training=True, momentum=0.3)
    for s, t in zip(stats_s, stats_t):
        np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-13)
    assert not stats_s[0].requires_grad


def test_dropout_variants_outside_training_return_the_input():
    x = sg.tensor(X435)
    for f in (F.alpha_dropout, F.feature_alpha_dropout):
        assert f(x, 0.4) is x
    for f, t in ((F.dropout1d, x), (F.dropout2d, x[None]), (F.dropout3d, x[None, None])):
        assert f(t, 0.4, training=False) is t


def test_channel_dropout_zeroes_whole_channels_and_keeps_the_expected_value():
    sg.manual_seed(0)
    x = sg.ones(200, 3, 5)
    y = F.dropout1d(x, 0.25).numpy()
    per_channel = y.reshape(600, 5)
    assert set(np.unique(per_channel)) <= {0.0, 1 / 0.75}
    assert all(len(set(row)) == 1 for row in per_channel)
    assert 0.6 < (per_channel[:, 0] > 0).mean() < 0.9


def test_alpha_dropout_keeps_mean_and_variance_of_standard_normal_input():
    sg.manual_seed(1)
    x = sg.tensor(np.random.default_rng(2).standard_normal(200000))
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.03
    dropped = -1.7580993408473766 * (1 / np.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8))
    dropped += 1.7580993408473766 * 0.2 / np.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8)
    assert 0.15 < np.isclose(y, dropped).mean() < 0.25


def test_gumbel_softmax_samples_and_hard_one_hot_with_soft_gradient():
    logits = sg.tensor(np.log([[0.7, 0.2, 0.1]] * 4000), requires_grad=True)
    sg.manual_seed(4)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), 1.0, rtol=1e-12)
    sg.manual_seed(4)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) == {0.0, 1.0} and (h.sum(-1) == 1).all()
    np.testing.assert_allclose(h.mean(0), [0.7, 0.2, 0.1], atol=0.03)   # Gumbel-max sampling
    ct = sg.tensor(np.random.default_rng(5).standard_normal((4000, 3)))
    (g_hard,) = sg.autograd.grad(hard, logits, ct)
    (g_soft,) = sg.autograd.grad(soft, logits, ct)
    np.testing.assert_allclose(g_hard.numpy(), g_soft.numpy(), rtol=1e-12)


# scalar programs: the verifier proves them against SymPy's derivatives of the mirrors
SMALL, SMALL_B = A[:2, :3], B[:2, :3]
CHECKED = {
    "activations": (lambda x: (F.selu(x) + F.celu(x, 0.5) + F.mish(x) + F.hardswish(x * 3)
                               + F.hardsigmoid(x * 3) + F.softshrink(x) + F.hardshrink(x)
                               + F.threshold(x, 0.1, 2.0)).pow(2).sum(), [SMALL]),
    "prelu_glu": (lambda x, w: (F.prelu(x, w[0]) + F.glu(x, 0).sum()).exp().sum(),
                  [SMALL, SMALL_B]),
    "margin_losses": (lambda x, y: F.margin_ranking_loss(x, y, sg.tensor(SIGNS[:2, :3]))
                      + F.soft_margin_loss(x * y, sg.tensor(SIGNS[:2, :3]))
                      + F.hinge_embedding_loss(x, sg.tensor(SIGNS[:2, :3])), [SMALL, SMALL_B]),
    "embedding_losses": (lambda x, y: F.cosine_embedding_loss(x, y, sg.tensor([1.0, -1.0]))
                         + F.triplet_margin_loss(x, y, x * 0.5)
                         + F.multi_margin_loss(x, sg.tensor([1, 2]), p=2), [SMALL, SMALL_B]),
    "likelihoods": (lambda x, v: F.poisson_nll_loss(x, sg.tensor(COUNTS[:2, :3]), full=True)
                    + F.gaussian_nll_loss(x, sg.zeros(2, 3), v.abs() + 0.5)
                    + F.multilabel_soft_margin_loss(x, sg.tensor(BITS[:2, :3])),
                    [SMALL, SMALL_B]),
    "norms": (lambda x, w: (F.batch_norm(x, None, None, w[0], None, training=True)
                            + F.group_norm(x.reshape(1, 2, 3), 2).reshape(2, 3)
                            + F.rms_norm(x, 3, w[1]) + F.pdist(x).sum()).pow(2).sum(),
              [SMALL, SMALL_B]),
    "unfold_fold": (lambda x: F.fold(F.unfold(x.reshape(1, 1, 2, 3), 2, padding=1).exp(),
                                     (2, 3), 2, padding=1).pow(2).sum(), [SMALL]),
    "bilinear": (lambda x, w: F.bilinear(x, x, w.reshape(2, 1, 3).expand(2, 3, 3) * 1.0)
                 .sin().sum(), [SMALL, SMALL_B]),
}


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_exact_against_the_mirror(name):
    f, arrays = CHECKED[name]
    rep = verify.check(f, *[sg.tensor(a) for a in arrays])
    assert rep.ok, rep.table()


ERRORS = {
    "softshrink_negative": (lambda F, T: F.softshrink(T.ones(2), -1.0), RuntimeError),
    "glu_odd": (lambda F, T: F.glu(T.ones(2, 3)), RuntimeError),
    "glu_scalar": (lambda F, T: F.glu(T.tensor(1.0)), RuntimeError),
    "prelu_channels": (lambda F, T: F.prelu(T.ones(2, 3), T.ones(2)), RuntimeError),
    "hardswish_int": (lambda F, T: F.hardswish(T.ones(2, dtype=T.int64)), NotImplementedError),
    "reduction": (lambda F, T: F.soft_margin_loss(T.ones(2), T.ones(2), reduction="x"),
                  ValueError),
    "multi_margin_p3": (lambda F, T: F.multi_margin_loss(T.ones(2, 3), T.tensor([0, 1]), p=3),
                        ValueError),
    "soft_margin_target_grad": (lambda F, T: F.soft_margin_loss(
        T.ones(2), T.ones(2, requires_grad=True)), RuntimeError),
    "multi_margin_weight_grad": (lambda F, T: F.multi_margin_loss(
        T.ones(2, 3), T.tensor([0, 1]), weight=T.ones(3, requires_grad=True)), RuntimeError),
    "multi_margin_range": (lambda F, T: F.multi_margin_loss(T.ones(2, 3), T.tensor([0, 3])),
                           RuntimeError),
    "gaussian_var_size": (lambda F, T: F.gaussian_nll_loss(T.ones(2, 3), T.ones(2, 3),
                                                           T.ones(3, 2)), ValueError),
    "gaussian_var_negative": (lambda F, T: F.gaussian_nll_loss(T.ones(2), T.ones(2),
                                                               -T.ones(2)), ValueError),
    "margin_ranking_dims": (lambda F, T: F.margin_ranking_loss(T.ones(2), T.ones(2),
                                                               T.ones(1, 2)), RuntimeError),
    "triplet_dims": (lambda F, T: F.triplet_margin_loss(T.ones(2, 3), T.ones(3), T.ones(2, 3)),
                     RuntimeError),
    "group_norm_groups": (lambda F, T: F.group_norm(T.ones(2, 3, 4), 2), RuntimeError),
    "batch_norm_one_value": (lambda F, T: F.batch_norm(T.ones(1, 3), None, None, training=True),
                             ValueError),
    "celu_alpha_0": (lambda F, T: F.celu(T.ones(2), alpha=0.0), RuntimeError),
    "batch_norm_stats_size": (lambda F, T: F.batch_norm(T.ones(2, 3), T.zeros(2), T.ones(3)),
                              RuntimeError),
    "unfold_blocks": (lambda F, T: F.unfold(T.ones(1, 1, 2, 2), 3), RuntimeError),
    "pdist_1d": (lambda F, T: F.pdist(T.ones(3)), RuntimeError),
    "dropout2d_p": (lambda F, T: F.dropout2d(T.ones(2, 3, 4), 1.5), ValueError),
    "cosine_dims": (lambda F, T: F.cosine_embedding_loss(T.ones(2, 3), T.ones(2, 3),
                                                         T.ones(2, 1)), RuntimeError),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_pytorch(name):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    f, err = ERRORS[name]
    with pytest.raises(err):
        f(TF, torch)
    with pytest.raises(err):
        f(F, sg)


def test_dropout2d_of_3d_input_drops_channels_with_pytorchs_warning():
    sg.manual_seed(0)
    with pytest.warns(UserWarning, match="channel-wise 1D dropout"):
        out = F.dropout2d(sg.ones(8, 6, 5), 0.5, True).numpy()
    assert (out == out[:, :, :1]).all()              # one value per (sample, channel)
    assert len({tuple(row) for row in out[:, :, 0]}) > 1 and (out[:, :, 0].std(axis=1) > 0).any()


def test_rrelu_training_draws_a_slope_at_zero():
    sg.manual_seed(1)
    x = sg.tensor([0.0, -1.0, 2.0], requires_grad=True)
    F.rrelu(x, 0.1, 0.3, training=True).sum().backward()
    assert 0.1 <= x.grad[0].item() <= 0.3 and x.grad[2].item() == 1.0


@pytest.mark.parametrize("fn", ["alpha_dropout", "feature_alpha_dropout"])
def test_alpha_dropout_in_place_writes_into_the_input(fn):
    sg.manual_seed(2)
    x = sg.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    before = x.clone()
    y = getattr(F, fn)(x, 0.5, True, inplace=True)
    assert y is x and not np.array_equal(x.numpy(), before.numpy())
