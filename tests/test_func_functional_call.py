"""symgrad.func.functional_call: a module run with replaced parameters and buffers, so the
function transforms differentiate with respect to a dict of weights, as in PyTorch."""

import numpy as np
import pytest

import symgrad as sg


def _model(m, state):
    model = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.Tanh(), m.nn.Linear(4, 2))
    model.load_state_dict({k: m.tensor(v) for k, v in state.items()})
    return model


def _state(seed=0):
    rng = np.random.default_rng(seed)
    return {"0.weight": rng.standard_normal((4, 3)), "0.bias": rng.standard_normal(4),
            "2.weight": rng.standard_normal((2, 4)), "2.bias": rng.standard_normal(2)}


def _per_sample_grads(m, state, x, y):
    from importlib import import_module

    func = import_module(f"{m.__name__}.func")
    model = _model(m, state)
    params = {k: m.tensor(v) * 1.5 for k, v in state.items()}   # not the module's own

    def loss(p, xi, yi):
        out = func.functional_call(model, p, (xi.unsqueeze(0),))
        return m.nn.functional.mse_loss(out, yi.unsqueeze(0))

    grads = func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, m.tensor(x), m.tensor(y))
    return {k: v.detach().numpy() for k, v in grads.items()}, model[0].weight.detach().numpy()


def test_per_sample_gradients_as_pytorch(torch):
    rng = np.random.default_rng(1)
    x, y, state = rng.standard_normal((5, 3)), rng.standard_normal((5, 2)), _state()
    got, w_sg = _per_sample_grads(sg, state, x, y)
    want, w_t = _per_sample_grads(torch, state, x, y)
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(w_sg, state["0.weight"])   # the module is left as it was


def test_names_strictness_ties_and_buffers(torch):
    for m in (sg, torch):
        lin = m.nn.Linear(2, 1)
        fc = m.func.functional_call if m is sg else torch.func.functional_call
        p = {"weight": m.ones(1, 2, dtype=m.float64), "bias": m.zeros(1, dtype=m.float64)}
        assert fc(lin, p, m.ones(2, dtype=m.float64)).tolist() == [2.0]   # args not a tuple
        with pytest.raises(RuntimeError, match="Unexpected key.*'foo'.*\n.*Missing key.*'bias'"):
            fc(lin, {"weight": p["weight"], "foo": m.ones(1)}, (m.ones(2),), strict=True)
        with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
            fc(lin, ({"weight": p["weight"]}, {"weight": p["weight"]}), (m.ones(2),))
        # two dicts (parameters, buffers); a BatchNorm's running statistics in eval mode
        bn = m.nn.BatchNorm1d(2).double().eval()
        out = fc(bn, ({"weight": m.ones(2, dtype=m.float64) * 2},
                      {"running_mean": m.ones(2, dtype=m.float64)}),
                 (m.tensor([[1.0, 3.0]], dtype=m.float64),))
        np.testing.assert_allclose(out.detach().numpy(), [[0.0, 4.0 / np.sqrt(1 + 1e-5)]])
        assert bn.running_mean.tolist() == [0.0, 0.0]
        # tied weights: one given value replaces the weight under both names
        seq = m.nn.Sequential(m.nn.Linear(2, 2, bias=False), m.nn.Linear(2, 2, bias=False))
        seq[1].weight = seq[0].weight
        eye = m.eye(2, dtype=m.float64)
        assert fc(seq.double(), {"0.weight": eye * 3}, (m.ones(2, dtype=m.float64),)
                  ).tolist() == [9.0, 9.0]
        assert fc(seq, {"0.weight": eye * 3}, (m.ones(2, dtype=m.float64),),
                  tie_weights=False).tolist() != [9.0, 9.0]
