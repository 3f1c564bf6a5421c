"""The records that stand for PyTorch's fused nodes (NativeBatchNormBackward0,
NativeGroupNormBackward0, GluBackward0, Im2ColBackward0, Col2ImBackward0, PdistBackward0,
EmbeddingBagBackward0, ConvTbcBackward0, MultiMarginLossBackward0,
MultilabelMarginLossBackward0) and the Scalar-node compositions are checked by the verifier
against SymPy like every other op: exact gradients agree."""

import numpy as np
import pytest

import symgrad as sg
from symgrad.nn import functional as F

_R = np.random.default_rng(0)


def _t(*shape):
    return sg.tensor(_R.standard_normal(shape), requires_grad=True)


_RM, _RV = sg.tensor(_R.standard_normal(3)), sg.tensor(_R.uniform(0.5, 1.0, 3))
CASES = {
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)
                         .tanh().sum(), (_t(4, 3, 2), _t(3), _t(3))),
    "batch_norm_eval": (lambda x, w, b: F.batch_norm(x, _RM, _RV, w, b).tanh().sum(),
                        (_t(4, 3), _t(3), _t(3))),
    "group_norm": (lambda x, w: F.group_norm(x, 2, w).tanh().sum(), (_t(2, 4, 3), _t(4))),
    "instance_norm": (lambda x: F.instance_norm(x).tanh().sum(), (_t(2, 3, 4),)),
    "glu": (lambda x: F.glu(x, 0).tanh().sum(), (_t(4, 3),)),
    "unfold": (lambda x: F.unfold(x, 2, padding=1).tanh().sum(), (_t(1, 2, 3, 3),)),
    "fold": (lambda x: F.fold(x, (3, 3), 2).tanh().sum(), (_t(1, 8, 4),)),
    "multi_margin": (lambda x: F.multi_margin_loss(x, sg.tensor([0, 2]), p=2), (_t(2, 3),)),
    "multilabel_margin": (lambda x: F.multilabel_margin_loss(
        x, sg.tensor([[2, 0, -1], [1, -1, 0]])), (_t(2, 3),)),
    "pdist": (lambda x: F.pdist(x).tanh().sum() + F.pdist(x, 1).sum(), (_t(3, 2),)),
    "embedding_bag": (lambda w, p: F.embedding_bag(sg.tensor([0, 2, 2, 1]), w,
                                                   sg.tensor([0, 3]), mode="sum",
                                                   per_sample_weights=p).tanh().sum()
                      + F.embedding_bag(sg.tensor([[0, 2], [1, 1]]), w, mode="max").sum(),
                      (_t(3, 2), _t(4))),
    "conv_tbc": (lambda x, w, b: F.conv_tbc(x, w, b, 1).tanh().sum(),
                 (_t(4, 2, 3), _t(2, 3, 2), _t(2))),
    "rms_norm": (lambda x: F.rms_norm(x, (3,)).tanh().sum(), (_t(2, 3),)),
    "cross_entropy_smoothing": (lambda x: F.cross_entropy(x, sg.tensor([0, 2]),
                                                          label_smoothing=0.1), (_t(2, 3),)),
    "poisson_full": (lambda x: F.poisson_nll_loss(x.exp(), sg.tensor([0.5, 2.0]),
                                                  log_input=False, full=True), (_t(2),)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_verifier_agrees(name):
    fn, args = CASES[name]
    report = sg.verify.check(fn, *args)
    assert report.ok, report.table()


def test_batch_norm_updates_running_statistics_in_place():
    x = sg.tensor(_R.standard_normal((5, 2)))
    rm, rv = sg.zeros(2), sg.ones(2)
    F.batch_norm(x, rm, rv, training=True, momentum=0.5)
    data = x.numpy()
    np.testing.assert_allclose(rm.numpy(), 0.5 * data.mean(0), rtol=1e-14)
    np.testing.assert_allclose(rv.numpy(), 0.5 + 0.5 * data.var(0, ddof=1), rtol=1e-14)


def test_instance_norm_without_input_stats_uses_running_ones():
    x = _t(2, 3, 4)
    rm, rv = sg.tensor([0.5, -1.0, 2.0]), sg.tensor([1.0, 4.0, 0.25])
    out = F.instance_norm(x, rm, rv, use_input_stats=False, eps=0.0)
    want = (x.detach().numpy() - rm.numpy()[:, None]) / np.sqrt(rv.numpy())[:, None]
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-14)
    with pytest.raises(RuntimeError, match="running_mean and running_var to be defined"):
        F.instance_norm(x, use_input_stats=False)
