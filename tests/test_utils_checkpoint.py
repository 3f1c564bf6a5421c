"""``symgrad.utils.checkpoint`` against PyTorch's: the same values and gradients in both
modes, the reentrant mode's warning, keyword errors and no-grad outputs."""

import warnings

import numpy as np
import pytest

import symgrad as sg


def _model(m):
    m.manual_seed(0)
    net = m.nn.Sequential(m.nn.Linear(4, 6), m.nn.Tanh(), m.nn.Linear(6, 5), m.nn.ReLU(),
                          m.nn.Linear(5, 3), m.nn.Sigmoid())
    return net


def _copy_weights(src, dst, torch):
    dst.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in src.state_dict().items()})


@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_gradients_as_pytorch(torch, reentrant):
    a, b = _model(sg), _model(torch)
    _copy_weights(a, b, torch)
    x = np.random.default_rng(0).standard_normal((2, 4))
    res = []
    for m, net in ((sg, a), (torch, b)):
        inp = m.tensor(x, requires_grad=True)
        h = m.utils.checkpoint.checkpoint(lambda t: net[2](net[1](net[0](t))), inp,
                                          use_reentrant=reentrant)
        out = m.utils.checkpoint.checkpoint_sequential(list(net)[3:], 2, h,
                                                       use_reentrant=reentrant)
        (out * m.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
        res.append([out.detach().numpy(), inp.grad.numpy()]
                   + [p.grad.numpy() for p in net.parameters()])
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


def test_reentrant_without_grad_inputs_records_nothing_as_pytorch(torch):
    for m in (sg, torch):
        lin = m.nn.Linear(3, 2)
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
            out = m.utils.checkpoint.checkpoint(lin, m.ones(1, 3), use_reentrant=True)
        assert not out.requires_grad
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = m.utils.checkpoint.checkpoint(lin, m.ones(1, 3), use_reentrant=False)
        assert out.requires_grad


def test_checkpoint_argument_errors_as_pytorch(torch):
    for m in (sg, torch):
        ck = m.utils.checkpoint.checkpoint
        x = m.ones(2, requires_grad=True)
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
            ck(lambda t: t * 2, x)
        with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
            ck(lambda t, scale: t * scale, x, use_reentrant=True, scale=2.0)
        out = ck(lambda t, scale: t * scale, x, use_reentrant=False, scale=2.0)
        assert out.tolist() == [2.0, 2.0]


def test_checkpointed_segment_is_verified_exactly():
    net = _model(sg).double()
    x = sg.randn(2, 4)

    def loss(*params):
        return sg.utils.checkpoint.checkpoint(net, x, use_reentrant=False).sum()

    report = sg.verify.check(loss, *net.parameters())
    assert report.ok, report.table()
