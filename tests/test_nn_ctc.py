"""``F.ctc_loss`` / ``nn.CTCLoss`` against PyTorch's: losses for padded and concatenated
targets, unbatched input, every reduction, impossible alignments (with and without
``zero_infinity``), and the gradient of the logits under log-softmax. The gradient of a
``log_probs`` leaf is the exact one, which PyTorch's kernel offsets by ``exp(log_probs)``."""

import warnings

import numpy as np
import pytest

import symgrad as sg

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((6, 3, 4))
PADDED = np.array([[1, 2, 2], [3, 1, 0], [2, 0, 0]])
IN_LEN, TG_LEN = np.array([6, 5, 4]), np.array([3, 2, 1])

CASES = {
    "padded": (LOGITS, PADDED, IN_LEN, TG_LEN, {}),
    "concatenated": (LOGITS, np.array([1, 2, 2, 3, 1, 2]), IN_LEN, TG_LEN, {}),
    "repeat_needs_blank": (LOGITS[:3], np.array([[2, 2], [1, 1], [3, 3]]), np.array([3, 2, 3]),
                           np.array([2, 2, 1]), {}),
    "impossible": (LOGITS[:2], np.array([[1, 2, 3], [1, 1, 0], [2, 0, 0]]), np.array([2, 2, 2]),
                   np.array([3, 2, 1]), {}),
    "zero_infinity": (LOGITS[:2], np.array([[1, 2, 3], [1, 1, 0], [2, 0, 0]]),
                      np.array([2, 2, 2]), np.array([3, 2, 1]), {"zero_infinity": True}),
    "empty_target": (LOGITS, PADDED, IN_LEN, np.array([0, 2, 1]), {}),
    "blank_last": (LOGITS, np.array([[0, 1, 2], [2, 1, 0], [1, 0, 0]]), IN_LEN, TG_LEN,
                   {"blank": 3}),
}


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_ctc_loss_as_pytorch(torch, name, reduction):
    logits, targets, il, tl, kw = CASES[name]
    res = []
    for m in (sg, torch):
        x = m.tensor(logits, requires_grad=True)
        lp = m.nn.functional.log_softmax(x, 2)
        out = m.nn.functional.ctc_loss(lp, m.tensor(targets), m.tensor(il), m.tensor(tl),
                                       reduction=reduction, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            finite = np.isfinite(out.detach().numpy()).all()
        if finite:
            out.sum().backward()
        res.append((out.detach().numpy(), x.grad.numpy() if finite else None))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    if res[1][1] is not None:
        np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-10, atol=1e-13)


def test_unbatched_and_module_as_pytorch(torch):
    res = []
    for m in (sg, torch):
        lp = m.nn.functional.log_softmax(m.tensor(LOGITS[:, 0]), 1)
        loss = m.nn.CTCLoss(blank=0, reduction="sum")
        res.append(loss(lp, m.tensor(PADDED[0]), m.tensor(6), m.tensor(3)).item())
    assert repr(sg.nn.CTCLoss()) == "CTCLoss()"
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


def test_log_probs_leaf_gradient_is_exact():
    lp0 = np.log(np.full((3, 1, 3), 1 / 3))
    report = sg.verify.check(
        lambda lp: sg.nn.functional.ctc_loss(lp, sg.tensor([[1]]), [3], [1], reduction="sum"),
        sg.tensor(lp0))
    assert report.ok, report.table()


def test_ctc_misuse_raises():
    lp = sg.zeros(4, 2, 3)
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        sg.nn.functional.ctc_loss(lp, sg.tensor([[1], [1]]), [4, 4], [1, 1], blank=3)
    with pytest.raises(RuntimeError, match="input_lengths to have value at most 4"):
        sg.nn.functional.ctc_loss(lp, sg.tensor([[1], [1]]), [5, 4], [1, 1])
