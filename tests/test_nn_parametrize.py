"""``nn.utils.parametrize`` and ``nn.utils.parametrizations`` against PyTorch: stored
originals, state_dict keys, printed forms, values and gradients, assignment through the
right inverse, removal."""

import numpy as np
import pytest

import symgrad as sg


def _symmetric(m):
    class Symmetric(m.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    return Symmetric()


def _pair(torch, make):
    a, b = make(sg), make(torch)
    b.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in a.state_dict().items()})
    return a, b


def _linear(m):
    m.manual_seed(0)
    return m.nn.Linear(3, 3)


def test_symmetric_parametrization_as_pytorch(torch):
    a, b = _linear(sg), _linear(torch)
    b.load_state_dict({k: torch.tensor(v.numpy()) for k, v in a.state_dict().items()})
    for m, mod in ((sg, a), (torch, b)):
        m.nn.utils.parametrize.register_parametrization(mod, "weight", _symmetric(m))
    assert repr(a).replace("symgrad", "torch") == repr(b)
    assert type(a).__name__ == "ParametrizedLinear"
    assert list(a.state_dict()) == list(b.state_dict())
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    np.testing.assert_allclose(a.weight.detach().numpy(), b.weight.detach().numpy())
    x = np.arange(6.0).reshape(2, 3)
    grads = []
    for m, mod in ((sg, a), (torch, b)):
        (mod(m.tensor(x)) ** 2).sum().backward()
        grads.append([p.grad.numpy() for p in mod.parameters()])
    for u, v in zip(*grads):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    # assignment goes through right_inverse; removal leaves a plain parameter
    target = np.array([[1.0, 2.0, 3.0], [2.0, 5.0, 6.0], [3.0, 6.0, 9.0]])
    for m, mod in ((sg, a), (torch, b)):
        with m.no_grad():
            mod.weight = m.tensor(target)
        np.testing.assert_array_equal(mod.weight.detach().numpy(), target)
        m.nn.utils.parametrize.remove_parametrizations(mod, "weight")
        assert type(mod).__name__ == "Linear"
        assert not m.nn.utils.parametrize.is_parametrized(mod)
        np.testing.assert_array_equal(mod.weight.detach().numpy(), target)
    assert list(a.state_dict()) == list(b.state_dict()) == ["bias", "weight"]


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_as_pytorch(torch, dim):
    a, b = _linear(sg).double(), _linear(torch).double()
    b.load_state_dict({k: torch.tensor(v.numpy()) for k, v in a.state_dict().items()})
    for m, mod in ((sg, a), (torch, b)):
        m.nn.utils.parametrizations.weight_norm(mod, dim=dim)
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sb:
        np.testing.assert_allclose(sa[k].numpy(), sb[k].numpy(), rtol=1e-14, err_msg=k)
    x = np.arange(6.0).reshape(2, 3) - 2
    grads = []
    for m, mod in ((sg, a), (torch, b)):
        (mod(m.tensor(x)).tanh()).sum().backward()
        grads.append([p.grad.numpy() for p in mod.parameters()])
    for u, v in zip(*grads):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make", [lambda m: m.nn.Linear(4, 3),
                                  lambda m: m.nn.ConvTranspose2d(2, 3, 2)])
def test_spectral_norm_as_pytorch(torch, make):
    """The same power iteration from the same start vectors: the same buffers after a
    training step, the same normalised weight and gradients, and no update in eval."""
    sg.manual_seed(0)
    torch.manual_seed(0)
    a, b = make(sg).double(), make(torch).double()
    b.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in a.state_dict().items()})
    for m, mod in ((sg, a), (torch, b)):
        m.nn.utils.parametrizations.spectral_norm(mod)
    assert list(a.state_dict()) == list(b.state_dict())
    b.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in a.state_dict().items()})
    shape = (1, 2, 3, 3) if isinstance(a, sg.nn.ConvTranspose2d) else (2, 4)
    x = np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)
    outs = []
    for m, mod in ((sg, a), (torch, b)):
        (mod(m.tensor(x)) ** 2).sum().backward()
        mod.eval()
        w1 = mod.weight.detach().numpy().copy()
        w2 = mod.weight.detach().numpy().copy()
        outs.append([w1, w2] + [v.detach().numpy() for v in mod.state_dict().values()]
                    + [p.grad.numpy() for p in mod.parameters()])
    for u, v in zip(*outs):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(outs[0][0], outs[0][1])


def test_parametrization_misuse_raises():
    lin = sg.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        sg.nn.utils.parametrize.register_parametrization(lin, "nope", _symmetric(sg))

    class Widen(sg.nn.Module):
        def forward(self, X):
            return sg.cat([X, X])

    with pytest.raises(ValueError, match="shape"):
        sg.nn.utils.parametrize.register_parametrization(lin, "weight", Widen())
    with pytest.raises(ValueError, match="does not have a parametrization"):
        sg.nn.utils.parametrize.remove_parametrizations(lin, "weight")


def test_parametrized_weight_is_verified_exactly():
    sg.manual_seed(0)
    lin = sg.nn.utils.parametrizations.weight_norm(sg.nn.Linear(3, 2).double())
    x = sg.randn(4, 3)
    report = sg.verify.check(lambda *ps: lin(x).tanh().sum(), *lin.parameters())
    assert report.ok, report.table()


def test_hook_based_weight_norm_as_pytorch(torch):
    a, b = _linear(sg).double(), _linear(torch).double()
    b.load_state_dict({k: torch.tensor(v.numpy()) for k, v in a.state_dict().items()})
    for m, mod in ((sg, a), (torch, b)):
        with pytest.warns(FutureWarning, match="weight_norm` is deprecated"):
            m.nn.utils.weight_norm(mod, dim=1)
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    x = np.arange(6.0).reshape(2, 3) - 2
    res = []
    for m, mod in ((sg, a), (torch, b)):
        with m.no_grad():
            mod.weight_v.mul_(2.0)   # the weight follows on the next forward
        out = mod(m.tensor(x))
        out.sum().backward()
        grads = [p.grad.numpy() for p in mod.parameters()]
        m.nn.utils.remove_weight_norm(mod)
        res.append([out.detach().numpy(), mod.weight.detach().numpy()] + grads)
        assert [n for n, _ in mod.named_parameters()] == ["bias", "weight"]
        with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
            m.nn.utils.remove_weight_norm(mod)
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)
