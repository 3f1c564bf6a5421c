"""``symgrad.jit``: decorated and traced code runs as plain Python, with its graph
recorded (so gradients agree with PyTorch's scripted code); archives are refused."""

import numpy as np
import pytest

import symgrad as sg


def _program(m):
    @m.jit.script
    def gelu_ish(x):
        return x * m.sigmoid(1.702 * x)

    class Net(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = m.nn.Linear(3, 2)

        @m.jit.ignore
        def helper(self, x):
            return x + 1

        def forward(self, x):
            return gelu_ish(self.lin(x))

    net = Net()
    with m.no_grad():
        net.lin.weight.copy_(m.tensor(np.arange(6.0).reshape(2, 3) / 10))
        net.lin.bias.zero_()
    x = m.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    traced = m.jit.trace(net, (x,))
    out = traced(x)
    out.sum().backward()
    return out.detach().numpy(), x.grad.numpy(), m.jit.is_scripting()


@pytest.mark.filterwarnings("ignore:`torch.jit.(script|trace)` is deprecated")
def test_scripted_and_traced_code_as_pytorch(torch):
    for u, v in zip(_program(sg), _program(torch)):
        np.testing.assert_allclose(u, v, rtol=1e-12)


def test_archives_are_refused():
    with pytest.raises(RuntimeError, match="no TorchScript"):
        sg.jit.save(sg.nn.Linear(2, 2), "model.pt")


def _double(x):
    return 2 * x


def test_script_warns_of_its_deprecation_as_pytorch(torch):
    for m in (sg, torch):
        with pytest.warns(DeprecationWarning, match="jit.script` is deprecated"):
            m.jit.script(_double)
