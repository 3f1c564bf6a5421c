"""Convolution, pooling and resampling layers (and F.pad's reflect / replicate / circular
modes they use): values, gradients, node names and printed forms as PyTorch's."""

import numpy as np
import pytest

import symgrad as sg


def _same_weights(mod_sg, mod_t, torch):
    mod_t.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in
                           mod_sg.state_dict().items()})


def _run(m, mod, x, g):
    xt = m.tensor(x, requires_grad=True)
    out = mod(xt)
    out = out[0] if isinstance(out, tuple) else out
    (out * m.tensor(g if g.shape == tuple(out.shape) else np.ones(tuple(out.shape)))).sum(
    ).backward()
    grads = {k: p.grad.numpy().copy() for k, p in mod.named_parameters()}
    return out.detach().numpy(), xt.grad.numpy(), grads, out.grad_fn.name()


LAYERS = [
    ("Conv1d", (2, 4, 3), {}, (2, 2, 9)),
    ("Conv2d", (2, 4, (3, 2)), {"stride": 2, "padding": 1, "dilation": (1, 2)}, (2, 2, 7, 8)),
    ("Conv2d", (4, 6, 3), {"groups": 2, "bias": False}, (1, 4, 6, 6)),
    ("Conv2d", (2, 3, 3), {"padding": "same", "padding_mode": "reflect"}, (2, 2, 5, 6)),
    ("Conv2d", (2, 3, (2, 4)), {"padding": "same", "padding_mode": "circular"}, (1, 2, 5, 6)),
    ("Conv2d", (2, 3, 3), {"padding": 2, "padding_mode": "replicate"}, (1, 2, 4, 5)),
    ("Conv3d", (1, 2, 2), {"padding": 1}, (1, 1, 3, 4, 3)),
    ("ConvTranspose1d", (3, 2, 3), {"stride": 2, "output_padding": 1}, (2, 3, 5)),
    ("ConvTranspose2d", (2, 4, 3), {"stride": 2, "padding": 1, "groups": 2}, (1, 2, 4, 3)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 5)),
    ("MaxPool1d", (3,), {"stride": 1, "padding": 1, "return_indices": True}, (2, 3, 7)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, (1, 2, 7, 6)),
    ("AvgPool1d", (3, 2, 1), {"ceil_mode": True}, (2, 2, 8)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
    ("LPPool2d", (2, 2), {}, (1, 2, 4, 6)),
    ("Upsample", (), {"scale_factor": 2, "mode": "bilinear", "align_corners": False},
     (1, 2, 3, 4)),
    ("Upsample", (), {"size": (5, 7), "mode": "nearest"}, (1, 1, 3, 4)),
    ("PixelShuffle", (2,), {}, (1, 8, 3, 2)),
    ("PixelUnshuffle", (2,), {}, (1, 2, 4, 6)),
    ("LocalResponseNorm", (3,), {}, (2, 5, 3, 3)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(LAYERS)])
def test_layers_as_pytorch(torch, name, args, kwargs, shape):
    rng = np.random.default_rng(len(name) + len(shape))
    x = rng.standard_normal(shape)
    mod_sg = getattr(sg.nn, name)(*args, **kwargs).double()
    mod_t = getattr(torch.nn, name)(*args, **kwargs).double()
    _same_weights(mod_sg, mod_t, torch)
    assert repr(mod_sg) == repr(mod_t)
    g = rng.standard_normal(tuple(mod_t(torch.tensor(x))[0].shape)
                            if kwargs.get("return_indices") else
                            tuple(mod_t(torch.tensor(x)).shape))
    got, want = _run(sg, mod_sg, x, g), _run(torch, mod_t, x, g)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-13)
    for k in want[2]:
        np.testing.assert_allclose(got[2][k], want[2][k], rtol=1e-12, atol=1e-13)
    assert got[3] == want[3]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_modes_as_pytorch(torch, mode):
    rng = np.random.default_rng(3)
    for shape, pads in [((1, 1, 6), (2, 1)), ((2, 6), (0, 3)), ((1, 3, 4), (1, 1, 2, 0)),
                        ((2, 3, 4, 5), (1, 2, 0, 3)), ((1, 2, 3, 4, 5), (1, 1, 2, 2, 3, 0)),
                        ((1, 1, 6), (-1, 2)), ((1, 2, 5), (-2, 1)), ((1, 1, 6), (6, 0)),
                        ((1, 1, 6), (7, 0)), ((6,), (1, 1)), ((1, 2, 3, 4, 5, 6), (1, 1))]:
        a = rng.standard_normal(shape)
        res = []
        for m in (sg, torch):
            x = m.tensor(a, requires_grad=True)
            try:
                y = m.nn.functional.pad(x, pads, mode=mode)
            except (RuntimeError, NotImplementedError) as e:
                res.append(type(e).__name__)
                continue
            (y * m.tensor(np.arange(y.numel(), dtype=float).reshape(tuple(y.shape)))).sum(
            ).backward()
            res.append((y.detach().numpy(), x.grad.numpy(), y.grad_fn.name()))
        if isinstance(res[1], str):
            assert res[0] == res[1], (shape, pads)
            continue
        np.testing.assert_array_equal(res[0][0], res[1][0])
        np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-14)
        assert res[0][2] == res[1][2]


def _lenet(m):
    return m.nn.Sequential(
        m.nn.Conv2d(1, 3, 3, padding=1), m.nn.ReLU(), m.nn.MaxPool2d(2),
        m.nn.Conv2d(3, 4, 3), m.nn.Tanh(), m.nn.AdaptiveAvgPool2d(1), m.nn.Flatten(),
        m.nn.Linear(4, 3)).double()


def test_a_small_cnn_trains_as_in_pytorch(torch):
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((6, 1, 8, 8)), rng.integers(0, 3, 6)
    net_sg, net_t = _lenet(sg), _lenet(torch)
    _same_weights(net_sg, net_t, torch)
    losses = {}
    for m, net in ((sg, net_sg), (torch, net_t)):
        opt = m.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        losses[m] = []
        for _ in range(5):
            opt.zero_grad()
            loss = m.nn.functional.cross_entropy(net(m.tensor(x)), m.tensor(y))
            loss.backward()
            opt.step()
            losses[m].append(loss.item())
    np.testing.assert_allclose(losses[sg], losses[torch], rtol=1e-11)
    for (k, a), (_, b) in zip(net_sg.state_dict().items(), net_t.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_a_conv_model_is_verified_exactly():
    sg.manual_seed(0)
    net = sg.nn.Sequential(sg.nn.Conv2d(1, 2, 2, padding=1, padding_mode="reflect"),
                           sg.nn.Tanh(), sg.nn.AvgPool2d(2), sg.nn.Flatten(),
                           sg.nn.Linear(8, 1)).double()
    x = sg.randn(1, 1, 3, 3)
    report = sg.verify.check(lambda *ps: net(x).sum(), *net.parameters())
    assert report.ok, report.table()
