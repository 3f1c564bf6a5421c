"""Padding, distance, fold, instance-norm, RMSNorm, Softmax2d and EmbeddingBag layers
against PyTorch's: printed form, state_dict, output and gradients (weights copied across)."""

import numpy as np
import pytest

import symgrad as sg

CASES = [
    ("ZeroPad1d", (2,), (2, 3, 4)), ("ZeroPad2d", ((1, 0, 2, 1),), (1, 2, 3, 3)),
    ("ZeroPad3d", (1,), (1, 1, 2, 2, 2)),
    ("ConstantPad1d", ((1, 2), 3.5), (2, 4)), ("ConstantPad2d", (1, -1.0), (1, 2, 2, 3)),
    ("ConstantPad3d", ((1, 0, 0, 1, 1, 0), 0.5), (1, 1, 2, 2, 2)),
    ("ReflectionPad1d", (2,), (1, 2, 5)), ("ReflectionPad2d", ((1, 1, 2, 0),), (1, 1, 3, 4)),
    ("ReflectionPad3d", (1,), (1, 1, 3, 3, 3)),
    ("ReplicationPad1d", ((0, 3),), (1, 2, 3)), ("ReplicationPad2d", (2,), (1, 1, 2, 3)),
    ("ReplicationPad3d", (1,), (1, 1, 2, 2, 2)),
    ("CircularPad1d", (1,), (1, 2, 4)), ("CircularPad2d", ((1, 2, 0, 1),), (1, 1, 3, 3)),
    ("CircularPad3d", (1,), (1, 1, 2, 3, 3)),
    ("Softmax2d", (), (2, 3, 2, 2)), ("Softmax2d", (), (3, 2, 2)),
    ("Unfold", (2,), (1, 2, 4, 4)), ("Unfold", ((2, 3), 1, 1, 2), (2, 1, 5, 5)),
    ("Fold", ((4, 5), (2, 2)), (1, 12, 12)),
    ("InstanceNorm1d", (3,), (2, 3, 5)), ("InstanceNorm1d", (3,), (3, 5)),
    ("InstanceNorm2d", (2, 1e-3, 0.1, True), (2, 2, 3, 3)),
    ("InstanceNorm3d", (2,), (1, 2, 2, 2, 3)),
    ("RMSNorm", (4,), (3, 4)), ("RMSNorm", ((2, 3), 1e-4, False), (2, 2, 3)),
]


@pytest.mark.parametrize("name,args,shape", CASES)
def test_module_as_pytorch(torch, name, args, shape):
    a, b = getattr(sg.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(a) == repr(b)
    assert list(a.state_dict()) == list(b.state_dict())
    b.load_state_dict({k: torch.tensor(v.numpy()) for k, v in a.state_dict().items()})
    x = np.sin(np.arange(np.prod(shape)) * 1.7).reshape(shape)
    res = []
    for m, mod in ((sg, a), (torch, b)):
        t = m.tensor(x, requires_grad=True)
        out = mod(t)
        (out * m.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))).sum().backward()
        res.append([out.detach().numpy(), t.grad.numpy()]
                   + [p.grad.numpy() for p in mod.parameters()])
    assert len(res[0]) == len(res[1])
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-11, atol=1e-13)


def test_instance_norm_running_stats_as_pytorch(torch):
    a = sg.nn.InstanceNorm1d(3, momentum=0.3, affine=True, track_running_stats=True)
    b = torch.nn.InstanceNorm1d(3, momentum=0.3, affine=True, track_running_stats=True)
    assert repr(a) == repr(b)
    assert list(a.state_dict()) == list(b.state_dict())
    x = np.cos(np.arange(30.0)).reshape(2, 3, 5)
    outs = []
    for m, mod in ((sg, a), (torch, b)):
        mod(m.tensor(x))
        mod.eval()
        outs.append([mod(m.tensor(x)).detach().numpy()]
                    + [v.numpy() for v in mod.state_dict().values()])
    for u, v in zip(*outs):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_module_as_pytorch(torch, mode):
    a = sg.nn.EmbeddingBag(6, 3, mode=mode, padding_idx=1)
    b = torch.nn.EmbeddingBag(6, 3, mode=mode, padding_idx=1)
    assert repr(a) == repr(b)
    b.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in a.state_dict().items()})
    idx, offsets = np.array([0, 2, 1, 4, 5, 2]), np.array([0, 2, 5])
    res = []
    for m, mod in ((sg, a), (torch, b)):
        out = mod(m.tensor(idx), m.tensor(offsets))
        (out * m.tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
        res.append([out.detach().numpy(), mod.weight.grad.numpy()])
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name,kw", [("CosineSimilarity", {"dim": 0}),
                                     ("PairwiseDistance", {"p": 1.5, "keepdim": True})])
def test_distance_modules_as_pytorch(torch, name, kw):
    a, b = getattr(sg.nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(a) == repr(b)
    x1, x2 = np.arange(12.0).reshape(3, 4) / 5, np.cos(np.arange(12.0)).reshape(3, 4)
    res = []
    for m, mod in ((sg, a), (torch, b)):
        t1, t2 = m.tensor(x1, requires_grad=True), m.tensor(x2, requires_grad=True)
        out = mod(t1, t2)
        out.sum().backward()
        res.append([out.detach().numpy(), t1.grad.numpy(), t2.grad.numpy()])
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


def test_module_misuse_raises_as_pytorch(torch):
    for m in (sg, torch):
        with pytest.raises(ValueError, match="expected 2D or 3D input"):
            m.nn.InstanceNorm1d(3)(m.ones(2, 3, 4, 5))
        with pytest.raises(ValueError, match="to match num_features"):
            m.nn.InstanceNorm1d(4, affine=True)(m.ones(2, 3, 5))
        with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D"):
            m.nn.Softmax2d()(m.ones(2, 3))
