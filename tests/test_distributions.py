"""symgrad.distributions against torch.distributions: log-likelihoods, entropies, moments,
KL divergences and their gradients with respect to the parameters; sample shapes."""

import numpy as np
import pytest

import symgrad as sg

LOC, SCALE = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.3, 2.0])
X = np.array([[0.1, -0.8, 3.0], [1.0, 0.0, -2.0]])
LOGITS = np.array([[0.2, -1.0, 0.5, 1.5], [0.0, 2.0, -0.3, 0.1]])


def _case(m, name):
    D = m.distributions
    a = m.tensor(LOC, requires_grad=True)
    b = m.tensor(SCALE, requires_grad=True)
    x = m.tensor(X)
    if name == "normal":
        d = D.Normal(a, b)
        outs = [d.log_prob(x), d.entropy(), d.mean, d.variance, d.stddev, d.cdf(x)]
    elif name == "normal_kl":
        outs = [D.kl_divergence(D.Normal(a, b), D.Normal(b * 0.5, a.abs() + 0.5))]
    elif name == "uniform":
        d = D.Uniform(a - b, a + b)
        outs = [d.log_prob(m.tensor([0.0, -1.0, 1.0])), d.entropy(), d.mean, d.variance]
    elif name == "exponential":
        d = D.Exponential(b)
        outs = [d.log_prob(m.tensor(np.abs(X))), d.entropy(), d.mean, d.variance]
    elif name == "bernoulli_logits":
        d = D.Bernoulli(logits=a)
        outs = [d.log_prob(m.tensor([[1.0, 0.0, 1.0]])), d.entropy(), d.mean, d.variance]
    elif name == "bernoulli_probs":
        d = D.Bernoulli(probs=b / 3)
        outs = [d.log_prob(m.tensor([0.0, 1.0, 1.0])), d.entropy(),
                D.kl_divergence(d, D.Bernoulli(logits=a))]
    elif name == "categorical":
        lg = m.tensor(LOGITS, requires_grad=True)
        d = D.Categorical(logits=lg)
        q = D.Categorical(probs=(lg * 0.5).softmax(-1))
        outs = [d.log_prob(m.tensor([3, 1])), d.entropy(), D.kl_divergence(d, q),
                d.log_prob(m.tensor([[0, 1], [2, 3]]))]
        a = lg
    total = sum((o * (k + 1)).sum() for k, o in enumerate(outs))
    total.backward()
    grads = [t.grad.numpy().copy() for t in (a, b) if t.grad is not None]
    return [o.detach().numpy() for o in outs], grads


NAMES = ["normal", "normal_kl", "uniform", "exponential", "bernoulli_logits",
         "bernoulli_probs", "categorical"]


@pytest.mark.parametrize("name", NAMES)
def test_values_and_gradients_as_pytorch(torch64, name):
    got, want = _case(sg, name), _case(torch64, name)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    assert len(got[1]) == len(want[1])
    for g, w in zip(got[1], want[1]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_samples_shapes_and_reparameterisation():
    D = sg.distributions
    loc = sg.tensor(LOC, requires_grad=True)
    d = D.Normal(loc, sg.tensor(SCALE))
    assert tuple(d.sample((4,)).shape) == (4, 3) and not d.sample().requires_grad
    d.rsample((5,)).sum().backward()
    assert loc.grad.tolist() == [5.0, 5.0, 5.0]
    c = D.Categorical(logits=sg.tensor(LOGITS))
    s = c.sample((6,))
    assert tuple(s.shape) == (6, 2) and s.dtype == sg.int64 and int(s.max()) < 4
    assert tuple(D.Bernoulli(probs=sg.tensor([0.2, 0.9])).sample((3,)).shape) == (3, 2)
    with pytest.raises(NotImplementedError):
        c.rsample()
    with pytest.raises(ValueError, match="scale"):
        D.Normal(0.0, -1.0)


def test_a_log_likelihood_is_verified_exactly():
    x = sg.tensor(X)
    report = sg.verify.check(
        lambda loc, scale: sg.distributions.Normal(loc, scale).log_prob(x).sum(),
        sg.tensor(LOC), sg.tensor(SCALE))
    assert report.ok, report.table()
