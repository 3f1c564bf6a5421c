"""What tutorial-style programs met first, each compared with PyTorch: a custom Function's
wrongly shaped gradient, old BatchNorm checkpoints, t[range(n), target], load_state_dict's
printed result, torch.autograd.function, ParameterDict, pad_sequence and
torch.func.stack_module_state."""

import numpy as np
import pytest

import symgrad as sg
from torch_parity import program_outcome

PROGRAMS = {
    "smaller_custom_gradient_is_refused": """
class W(m.autograd.Function):
    @staticmethod
    def forward(ctx, x): return x * 2
    @staticmethod
    def backward(ctx, g): return g.sum()
x = m.tensor([1., 2.], requires_grad=True); W.apply(x).sum().backward()""",
    "larger_custom_gradient_is_summed_down": """
class V(m.autograd.Function):
    @staticmethod
    def forward(ctx, x): return x * 2
    @staticmethod
    def backward(ctx, g): return g.expand(3, 2)
x = m.tensor([1., 2.], requires_grad=True); V.apply(x).sum().backward(); out = x.grad.tolist()""",
    "batchnorm_checkpoint_without_step_count": """
b = m.nn.BatchNorm1d(2)
r = b.load_state_dict({'weight': m.ones(2), 'bias': m.zeros(2), 'running_mean': m.zeros(2),
                       'running_var': m.ones(2)})
out = (repr(r), b.load_state_dict({'weight': m.ones(2)}, strict=False).missing_keys)""",
    "range_index": """
x = m.arange(6.).reshape(2, 3).requires_grad_()
y = x[range(2), m.tensor([0, 2])]; y.sum().backward()
t = m.zeros(3); t[range(1, 3)] = 5.0
out = (y.tolist(), x.grad.tolist(), tuple(x[range(2)].shape), t.tolist())""",
    "autograd_function_module": """
out = m.autograd.function.once_differentiable.__name__""",
    "parameter_dict": """
pd = m.nn.ParameterDict({'a': m.nn.Parameter(m.ones(2)), 'b': m.zeros(3, 2)})
pd['c'] = m.ones(1); pd.update({'d': m.ones(2, 2)}); c = pd.pop('c')
out = (list(pd), len(pd), 'a' in pd, type(pd['b']).__name__, tuple(c.shape),
       [n for n, _ in pd.named_parameters()],
       repr(pd).replace('torch.', 'symgrad.'))""",
    "pad_sequence": """
a = m.tensor([1., 2., 3.], requires_grad=True); b = m.tensor([4.], requires_grad=True)
p = m.nn.utils.rnn.pad_sequence([a, b], padding_value=-1.0)
q = m.nn.utils.rnn.pad_sequence([a, b], batch_first=True, padding_side='left')
(p * m.arange(6.).reshape(3, 2)).sum().backward()
out = (p.tolist(), q.tolist(), a.grad.tolist(), b.grad.tolist())""",
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_as_pytorch(torch64, name):
    assert program_outcome(sg, PROGRAMS[name]) == program_outcome(torch64, PROGRAMS[name])


def test_an_ensemble_by_stack_module_state_and_vmap(torch64):
    torch = torch64
    rng = np.random.default_rng(0)
    states = [{"weight": rng.standard_normal((2, 3)), "bias": rng.standard_normal(2)}
              for _ in range(4)]
    x = rng.standard_normal((5, 3))
    outs = []
    for m, func in ((sg, sg.func), (torch, torch.func)):
        models = []
        for st in states:
            lin = m.nn.Linear(3, 2).double()
            lin.load_state_dict({k: m.tensor(v) for k, v in st.items()})
            models.append(lin)
        params, buffers = func.stack_module_state(models)
        assert params["weight"].requires_grad and params["weight"].is_leaf

        def run(p, b, xx, model=models[0], func=func):
            return func.functional_call(model, (p, b), (xx,))

        y = func.vmap(run, in_dims=(0, 0, None))(params, buffers, m.tensor(x))
        y.sum().backward()
        outs.append((y.detach().numpy(), params["weight"].grad.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-12)


MISUSE = {   # what programs written for PyTorch match in its messages
    "Trying to backward through the graph a second time":
        lambda m: [(y := (m.ones(2, requires_grad=True) ** 2).sum()).backward(), y.backward()],
    "grad can be implicitly created only for scalar outputs":
        lambda m: (m.ones(2, requires_grad=True) * 2).backward(),
    "Only Tensors of floating point and complex dtype can require gradients":
        lambda m: m.tensor([1, 2], requires_grad=True),
    "modified by an inplace operation":
        lambda m: [(b := m.ones(3, requires_grad=True).sigmoid()).mul_(2), b.sum().backward()],
}


@pytest.mark.parametrize("phrase", sorted(MISUSE))
def test_misuse_messages_carry_pytorchs_words(torch, phrase):
    for m in (sg, torch):
        with pytest.raises(RuntimeError, match=phrase):
            MISUSE[phrase](m)
