"""Lazy layers against PyTorch's: printed forms before and after the first call, the
class they become, the shapes read from the input, initial values equal to building the
full layer at that moment, and parameters an optimizer made earlier keeps training."""

import numpy as np
import pytest

import symgrad as sg

CASES = [
    ("LazyLinear", (3,), "Linear", (5, 3), (2, 5)),
    ("LazyConv1d", (4, 3), "Conv1d", (2, 4, 3), (2, 2, 6)),
    ("LazyConv2d", (4, 3, 1, 1, 1, 2), "Conv2d", (6, 4, 3, 1, 1, 1, 2), (1, 6, 5, 5)),
    ("LazyConv2d", (2, 2), "Conv2d", (3, 2, 2), (3, 4, 4)),             # unbatched
    ("LazyConvTranspose2d", (2, 3, 2), "ConvTranspose2d", (3, 2, 3, 2), (1, 3, 3, 3)),
    ("LazyBatchNorm1d", (), "BatchNorm1d", (5,), (4, 5)),
    ("LazyBatchNorm2d", (1e-3, 0.2), "BatchNorm2d", (3, 1e-3, 0.2), (2, 3, 2, 2)),
]


@pytest.mark.parametrize("lazy,args,full,full_args,shape", CASES)
def test_lazy_layer_as_pytorch(torch, lazy, args, full, full_args, shape):
    x = np.cos(np.arange(np.prod(shape))).reshape(shape)
    seen = []
    for m in (sg, torch):
        layer = getattr(m.nn, lazy)(*args)
        before = repr(layer)
        assert layer.has_uninitialized_params()
        params = list(layer.parameters())
        m.manual_seed(7)
        out = layer(m.tensor(x))
        m.manual_seed(7)
        ref = getattr(m.nn, full)(*full_args)
        assert type(layer) is type(ref) and repr(layer) == repr(ref)
        assert all(p is q for p, q in zip(params, layer.parameters()))
        assert list(layer.state_dict()) == list(ref.state_dict())
        for (k, a), (_, b) in zip(layer.named_parameters(), ref.named_parameters()):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=k)
        seen.append((before, list(layer.state_dict()), tuple(out.shape)))
    assert seen[0] == seen[1]


def test_optimizer_made_before_the_first_call_trains_the_layer(torch):
    for m in (sg, torch):
        layer = m.nn.LazyLinear(2)
        opt = m.optim.SGD(layer.parameters(), lr=0.1)
        x = m.ones(3, 4)
        layer(x).sum().backward()
        w = layer.weight.detach().clone()
        opt.step()
        np.testing.assert_allclose((w - layer.weight.detach()).numpy(), np.full((2, 4), 0.3),
                                   rtol=1e-6)


def test_uninitialized_parameter_refuses_its_shape(torch):
    for m in (sg, torch):
        w = m.nn.LazyLinear(2).weight
        assert repr(w) == "<UninitializedParameter>"
        with pytest.raises(RuntimeError, match="Can.t access the shape of an uninitialized"):
            _ = w.shape


def test_lazy_batch_norm_without_parameters_as_pytorch(torch):
    """affine=False leaves no parameter to tell the layer is uninitialized: it still reads
    its size from the first input (this once recursed without end)."""
    shown = []
    for m in (sg, torch):
        layer = m.nn.LazyBatchNorm1d(affine=False)
        out = layer(m.tensor(np.arange(12.0).reshape(4, 3)))
        shown.append((repr(layer), out.detach().numpy().round(12).tolist()))
    assert shown[0] == shown[1]
