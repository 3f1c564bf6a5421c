"""symgrad.nn modules against torch.nn: PyTorch's "Learning PyTorch with Examples" nn
sections run unchanged, Module's API behaves as PyTorch's, reprs print the same."""

import copy
import math
import pickle
import random
import subprocess
import sys

import numpy as np
import pytest

import symgrad as sg


@pytest.fixture
def torch_1thread(torch):
    """torch on one thread: on a small shared machine its thread pool costs seconds on
    these tiny matrices (restored after the test)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(n)


def _np(t):
    return t.detach().numpy()


def _close(a, b, rtol=1e-12):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=1e-14)


def _copy_params(src, dst, lib):
    """Copy ``src``'s parameters (a torch or symgrad model) into ``dst`` (of ``lib``)."""
    with lib.no_grad():
        for (na, a), (nb, b) in zip(src.named_parameters(), dst.named_parameters()):
            assert na == nb
            b.copy_(lib.tensor(_np(a).copy()))


# ====================================================================== the tutorial
def _polynomial_data(lib):
    x = lib.linspace(-math.pi, math.pi, 2000)
    y = lib.sin(x)
    p = lib.tensor([1, 2, 3])
    return x.unsqueeze(-1).pow(p), y


def _tutorial_nn(lib, init, steps, optimizer=None):
    """The tutorial's nn section (optimizer None: manual updates) or its optim section."""
    xx, y = _polynomial_data(lib)
    model = lib.nn.Sequential(lib.nn.Linear(3, 1), lib.nn.Flatten(0, 1))
    _copy_params(init, model, lib)
    loss_fn = lib.nn.MSELoss(reduction="sum")
    opt = lib.optim.RMSprop(model.parameters(), lr=1e-3) if optimizer else None
    losses = []
    for _ in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        if opt is None:
            model.zero_grad()
            loss.backward()
            with lib.no_grad():
                for param in model.parameters():
                    param -= 1e-6 * param.grad
        else:
            opt.zero_grad()
            loss.backward()
            opt.step()
    linear_layer = model[0]
    return losses, [_np(linear_layer.bias), _np(linear_layer.weight)]


@pytest.mark.parametrize("optimizer", [None, "RMSprop"])
def test_tutorial_sequential_matches_torch(torch_1thread, optimizer):
    torch = torch_1thread
    # A fixed start: RMSprop's step is about lr * sign(g), so from some starts a gradient
    # entry hovers around 0 and the last bit of the summed gradient decides the direction;
    # such a trajectory amplifies rounding 1.6x per step, in either library (seeds 0, 10).
    torch.manual_seed(3)
    init = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    lt, pt = _tutorial_nn(torch, init, 300, optimizer)
    ls, ps = _tutorial_nn(sg, init, 300, optimizer)
    _close(ls, lt)
    for a, b in zip(ps, pt):
        _close(a, b)
    assert ls[-1] < ls[0]


def _polynomial3(lib):
    class Polynomial3(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Parameter(lib.randn(()))
            self.b = lib.nn.Parameter(lib.randn(()))
            self.c = lib.nn.Parameter(lib.randn(()))
            self.d = lib.nn.Parameter(lib.randn(()))

        def forward(self, x):
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

        def string(self):
            return (f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + "
                    f"{self.d.item()} x^3")

    return Polynomial3()


def _tutorial_custom(lib, init, steps):
    x = lib.linspace(-math.pi, math.pi, 2000)
    y = lib.sin(x)
    model = _polynomial3(lib)
    _copy_params(init, model, lib)
    criterion = lib.nn.MSELoss(reduction="sum")
    optimizer = lib.optim.SGD(model.parameters(), lr=1e-6)
    losses = []
    for _ in range(steps):
        loss = criterion(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, model


def test_tutorial_custom_module_matches_torch(torch_1thread):
    torch = torch_1thread
    torch.manual_seed(0)
    init = _polynomial3(torch)
    lt, mt = _tutorial_custom(torch, init, 300)
    ls, ms = _tutorial_custom(sg, init, 300)
    _close(ls, lt)
    assert [n for n, _ in ms.named_parameters()] == ["a", "b", "c", "d"]
    for (_, a), (_, b) in zip(ms.named_parameters(), mt.named_parameters()):
        _close(_np(a), _np(b))
    assert ms.string().startswith("y = ")


def _dynamic_net(lib):
    class DynamicNet(lib.nn.Module):
        def __init__(self):
            super().__init__()
            for name in "abcde":
                setattr(self, name, lib.nn.Parameter(lib.randn(())))

        def forward(self, x):
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            for exp in range(4, random.randint(4, 6)):
                y = y + self.e * x ** exp
            return y

    return DynamicNet()


def test_tutorial_dynamic_net_matches_torch(torch_1thread):
    """The tutorial's weight-sharing net: Python control flow decides the graph per step
    (the same random draws on both sides), trained with SGD and momentum."""
    torch = torch_1thread
    torch.manual_seed(0)
    init = _dynamic_net(torch)
    results = []
    for lib in (torch, sg):
        random.seed(7)
        x = lib.linspace(-math.pi, math.pi, 200)
        y = lib.sin(x)
        model = _dynamic_net(lib)
        _copy_params(init, model, lib)
        criterion = lib.nn.MSELoss(reduction="sum")
        optimizer = lib.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
        losses = []
        for _ in range(100):
            loss = criterion(model(x), y)
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        results.append((losses, [_np(p) for p in model.parameters()]))
    (lt, pt), (ls, ps) = results
    _close(ls, lt)
    for a, b in zip(ps, pt):
        _close(a, b)


# ====================================================================== printing
def _models(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.25))
            self.heads = nn.ModuleDict({"cls": nn.Linear(8, 3, bias=False),
                                        "reg": nn.Sequential(nn.Linear(8, 1), nn.Tanh())})
            self.norm = nn.LayerNorm(8)
            self.w = nn.Parameter(lib.ones(2))

        def forward(self, x):
            return self.heads["cls"](self.norm(self.features(x)))

    return [
        nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1)),
        Net(),
        nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.GELU(), nn.GELU("tanh")]),
        nn.Sequential(nn.LeakyReLU(0.2, inplace=True), nn.ELU(alpha=0.5), nn.ReLU(inplace=True),
                      nn.ReLU6(), nn.Hardtanh(-2.0, 2.0), nn.Softplus(beta=2.0),
                      nn.Softmax(dim=1), nn.LogSoftmax(dim=-1), nn.SiLU(), nn.Sigmoid(),
                      nn.Threshold(0.1, 20.0), nn.Hardshrink(), nn.PReLU(3), nn.CELU(),
                      nn.SELU(), nn.Mish(), nn.Hardsigmoid(), nn.Hardswish(), nn.GLU(),
                      nn.Softmin(0), nn.Softshrink(0.3), nn.LogSigmoid(), nn.RReLU()),
        nn.Sequential(nn.Identity(), nn.Unflatten(1, (2, 5)), nn.Bilinear(2, 3, 4),
                      nn.Embedding(10, 3, padding_idx=0), nn.Dropout2d(), nn.AlphaDropout(0.1),
                      nn.LayerNorm(3, elementwise_affine=False), nn.LayerNorm((2, 3), bias=False)),
        nn.ModuleList([nn.MSELoss(), nn.CrossEntropyLoss(), nn.BCEWithLogitsLoss(),
                       nn.HuberLoss(), nn.NLLLoss(), nn.L1Loss(), nn.SmoothL1Loss()]),
        nn.ModuleList(),
        nn.Sequential(),
    ]


def test_module_reprs_match_torch(torch):
    for ms, mt in zip(_models(sg), _models(torch)):
        assert repr(ms) == repr(mt)


def test_parameter_list_repr_matches_torch_but_for_the_library_name(torch):
    rs = repr(sg.nn.ParameterList([sg.ones(2), sg.zeros(3, 2)]))
    rt = repr(torch.nn.ParameterList([torch.ones(2), torch.zeros(3, 2)]))
    assert rs == rt.replace("torch.", "symgrad.")


def test_parameter_repr_matches_torch(torch):
    assert repr(sg.nn.Parameter(sg.tensor([1.0, 2.0]))) == repr(
        torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert repr(sg.nn.Parameter(sg.tensor([[1.5]]), requires_grad=False)) == repr(
        torch.nn.Parameter(torch.tensor([[1.5]]), requires_grad=False))


# ====================================================================== Module API
def test_registration_and_traversal_match_torch(torch):
    ms, mt = _models(sg)[1], _models(torch)[1]
    for attr in ("named_parameters", "named_buffers", "named_children", "named_modules"):
        names_s = [n for n, _ in getattr(ms, attr)()]
        names_t = [n for n, _ in getattr(mt, attr)()]
        assert names_s == names_t, attr
    assert [tuple(p.shape) for p in ms.parameters()] == [tuple(p.shape) for p in mt.parameters()]
    assert list(ms.state_dict()) == list(mt.state_dict())
    assert len(list(ms.modules())) == len(list(mt.modules()))
    assert [n for n, _ in ms.named_parameters(recurse=False)] == ["w"]
    assert ms.get_submodule("heads.reg.0") is ms.heads["reg"][0]
    assert ms.get_parameter("features.0.bias") is ms.features[0].bias


def test_shared_parameters_are_listed_once(torch):
    for lib in (torch, sg):
        shared = lib.nn.Linear(2, 2)
        model = lib.nn.Sequential(shared, lib.nn.ReLU(), shared)
        assert len(list(model.parameters())) == 2
        assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
        assert [n for n, _ in model.named_modules()] == ["", "0", "1"]


def test_setattr_rules_match_torch(torch):
    for lib in (torch, sg):
        m = lib.nn.Linear(2, 3)
        with pytest.raises(TypeError, match="cannot assign"):
            m.weight = lib.ones(3, 2)          # a plain tensor to a parameter's name
        m.bias = None                          # None is allowed: the parameter is absent
        assert [n for n, _ in m.named_parameters()] == ["weight"]
        m.extra = lib.nn.Parameter(lib.zeros(1))
        assert [n for n, _ in m.named_parameters()] == ["weight", "extra"]
        m.register_buffer("running", lib.zeros(3))
        m.register_buffer("scratch", lib.zeros(1), persistent=False)
        assert list(m.state_dict()) == ["weight", "extra", "running"]
        m.running = lib.ones(3)                # a tensor to a buffer's name replaces it
        assert m.running.tolist() == [1.0, 1.0, 1.0]
        del m.extra
        assert not hasattr(m, "extra")
        with pytest.raises(KeyError):
            m.register_parameter("a.b", lib.nn.Parameter(lib.zeros(1)))
        with pytest.raises(KeyError, match="already exists"):
            m.register_buffer("in_features", lib.zeros(1))
        with pytest.raises(TypeError, match="cannot assign"):
            m.register_parameter("y", lib.nn.Parameter(lib.ones(1)) * 2)   # a plain Tensor
        with pytest.raises(AttributeError, match="object has no attribute 'nothing'"):
            getattr(m, "nothing")  # noqa: B009

    class Early(sg.nn.Module):
        def __init__(self):
            self.w = sg.nn.Parameter(sg.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_non_leaf_parameter_is_refused():
    m = sg.nn.Module()
    x = sg.ones(1, requires_grad=True) * 2
    p = sg.nn.Parameter(sg.ones(1))
    p.grad_fn = x.grad_fn       # (a parameter never has history; forced to test the guard)
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        m.register_parameter("w", p)


def test_forward_is_required_and_called_by_call():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        sg.nn.Module()(sg.ones(1))


def test_state_dict_round_trip_and_errors(torch):
    src = _models(sg)[1]
    dst = _models(sg)[1]
    sd = src.state_dict()
    assert all(not t.requires_grad for t in sd.values())
    assert sd["w"]._data is src.w._data          # detached views of the same storage
    result = dst.load_state_dict(sd)
    assert tuple(result) == ([], [])
    x = sg.randn(5, 4)
    dst.eval()
    src.eval()
    _close(_np(dst(x)), _np(src(x)), rtol=0)
    assert dst.w is not src.w
    # the same errors as torch for missing, unexpected and mismatched keys
    for lib in (torch, sg):
        m = lib.nn.Linear(2, 3)
        with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias"'):
            m.load_state_dict({"weight": lib.zeros(3, 2)})
        with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "extra"'):
            m.load_state_dict({"weight": lib.zeros(3, 2), "bias": lib.zeros(3),
                               "extra": lib.zeros(1)})
        with pytest.raises(RuntimeError, match="size mismatch for bias"):
            m.load_state_dict({"weight": lib.zeros(3, 2), "bias": lib.zeros(4)})
        keys = m.load_state_dict({"weight": lib.ones(3, 2)}, strict=False)
        assert keys.missing_keys == ["bias"] and keys.unexpected_keys == []
        assert m.weight.requires_grad and m.weight.tolist() == [[1.0, 1.0]] * 3


def test_state_dict_loads_across_libraries(torch):
    """A symgrad model loads a torch state_dict (as numpy values) and computes the same."""
    mt = _models(torch)[1]
    ms = _models(sg)[1]
    ms.load_state_dict({k: v.numpy() for k, v in mt.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 4))
    mt.eval()
    ms.eval()
    _close(_np(ms(sg.tensor(x))), _np(mt(torch.tensor(x))))


def test_zero_grad_train_eval_and_requires_grad(torch):
    m = sg.nn.Sequential(sg.nn.Linear(3, 2), sg.nn.Dropout(0.5))
    m(sg.randn(4, 3)).sum().backward()
    assert m[0].weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert np.all(_np(m[0].weight.grad) == 0)
    m.zero_grad()
    assert m[0].weight.grad is None
    assert m.training and m[1].training
    assert m.eval() is m and not m.training and not m[1].training
    x = sg.randn(200, 3)
    _close(_np(m(x)), _np(m[0](x)), rtol=0)      # eval: Dropout is the identity
    m.train()
    sg.manual_seed(0)
    out = _np(m[1](sg.ones(1000)))
    assert set(np.unique(out)) == {0.0, 2.0} and 400 < (out == 0).sum() < 600
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("yes")


def test_forward_hooks(torch):
    for lib in (torch, sg):
        m = lib.nn.Linear(2, 2)
        seen = []
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
        h2 = m.register_forward_hook(lambda mod, args, out: seen.append(out.shape) or out + 1)
        out = m(lib.ones(1, 2))
        assert _np(out).tolist() == (_np(m.bias) + 1).reshape(1, 2).tolist()
        assert seen == [(1, 2)]
        h1.remove()
        h2.remove()
        assert _np(m(lib.zeros(1, 2))).tolist() == _np(m.bias).reshape(1, 2).tolist()
        # with_kwargs, prepend: the hooks see and may replace the keyword arguments
        f = lib.nn.Flatten()
        order = []
        f.register_forward_pre_hook(lambda mod, args, kw: order.append("b") or (args, kw),
                                    with_kwargs=True)
        f.register_forward_pre_hook(lambda mod, args: order.append("a"), prepend=True)
        f.register_forward_hook(lambda mod, args, kw, out: out * 2, with_kwargs=True)
        assert _np(f(lib.ones(2, 1, 2))).tolist() == [[2.0, 2.0], [2.0, 2.0]]
        assert order == ["a", "b"]
        bad = lib.nn.Identity()
        bad.register_forward_pre_hook(lambda mod, args, kw: 1, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
            bad(lib.ones(1))


def test_full_backward_hooks_match_torch(torch):
    w = np.array([[0.5, -1.0], [2.0, 0.3], [0.1, 0.2]])
    x_np = np.array([[1.0, 2.0], [-0.5, 0.4]])
    results = []
    for lib in (torch, sg):
        m = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Tanh())
        with lib.no_grad():
            m[0].weight.copy_(lib.tensor(w))
            m[0].bias.fill_(0.25)
        seen = []
        m[0].register_full_backward_hook(lambda mod, gi, go, seen=seen: seen.append(
            ([None if g is None else _np(g) for g in gi], [_np(g) for g in go])))
        m[1].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2,))
        handle = m[1].register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,))
        x = lib.tensor(x_np, requires_grad=True)
        (m(x) ** 2).sum().backward()
        handle.remove()
        m.zero_grad()
        with pytest.warns(UserWarning, match="no inputs require gradients"):
            (m(lib.tensor(x_np)) ** 2).sum().backward()    # grad_input: (None,)
        results.append((seen, _np(x.grad), _np(m[0].weight.grad)))
    (st, xt, wt), (ss, xs, ws) = results
    _close(xs, xt)
    _close(ws, wt)
    assert len(ss) == len(st) == 2 and ss[1][0] == st[1][0] == [None]
    for (gi_s, go_s), (gi_t, go_t) in zip(ss, st):
        for a, b in zip(gi_s + go_s, gi_t + go_t):
            if b is not None:
                _close(a, b)


def test_containers(torch):
    for lib in (torch, sg):
        nn = lib.nn
        seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
        assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
        assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
        seq.append(nn.Sigmoid())
        del seq[1]
        assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
        with pytest.raises(IndexError):
            seq[5]
        ml = nn.ModuleList([nn.Linear(1, 1)])
        ml += [nn.Tanh()]
        ml.insert(0, nn.ReLU())
        assert [type(m).__name__ for m in ml] == ["ReLU", "Linear", "Tanh"]
        assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias"]
        md = nn.ModuleDict({"a": nn.ReLU()})
        md["b"] = nn.Linear(1, 2)
        assert list(md.keys()) == ["a", "b"] and "b" in md and len(md) == 2
        assert [n for n, _ in md.named_parameters()] == ["b.weight", "b.bias"]
        pl = nn.ParameterList([lib.ones(2), nn.Parameter(lib.zeros(1))])
        assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
        assert all(isinstance(p, nn.Parameter) for p in pl)


def test_to_double_float_keep_the_parameter_objects():
    m = sg.nn.Linear(2, 2)
    w = m.weight
    opt = sg.optim.SGD(m.parameters(), lr=0.1)
    assert m.float() is m and m.weight is w and w.dtype == sg.float32
    assert m.to(sg.float64).weight.dtype == sg.float64 and m.weight is w
    m(sg.ones(1, 2)).sum().backward()
    opt.step()                                   # the optimizer still holds the parameters
    with pytest.raises(TypeError, match="floating point"):
        m.to(sg.int64)


def test_copy_and_pickle_keep_parameters():
    m = _models(sg)[4]     # (a class defined in a function cannot be pickled)
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert all(isinstance(p, sg.nn.Parameter) and p.requires_grad
                   for p in clone.parameters())
        for a, b in zip(clone.parameters(), m.parameters()):
            assert a is not b and np.array_equal(_np(a), _np(b))


def test_apply_and_init(torch):
    m = sg.nn.Sequential(sg.nn.Linear(50, 40), sg.nn.ReLU(), sg.nn.Linear(40, 30))

    def init_weights(mod):
        if isinstance(mod, sg.nn.Linear):
            sg.nn.init.xavier_uniform_(mod.weight)
            sg.nn.init.zeros_(mod.bias)

    assert m.apply(init_weights) is m
    bound = math.sqrt(6 / 90)
    w = _np(m[0].weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.all(_np(m[2].bias) == 0)
    # Linear's default init: Uniform(-1/sqrt(in), 1/sqrt(in)) for weight and bias
    lin = sg.nn.Linear(400, 300)
    for t in (lin.weight, lin.bias):
        assert 0.9 / 20 < np.abs(_np(t)).max() <= 1 / 20
    for name, param in [("linear", None), ("relu", None), ("tanh", None),
                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
                        ("sigmoid", None)]:
        assert sg.nn.init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)
    t = sg.empty(300, 200)
    sg.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(_np(t).std() - math.sqrt(2 / 300)) < 0.05 * math.sqrt(2 / 300)
    sg.nn.init.orthogonal_(t)
    _close(_np(t).T @ _np(t), np.eye(200))
    sg.nn.init.trunc_normal_(t, std=2.0, a=-1.0, b=1.0)
    assert np.abs(_np(t)).max() <= 1.0
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        sg.nn.init.xavier_uniform_(sg.empty(3))


# ====================================================================== layers vs torch
_RNG = np.random.default_rng(5)
_X = _RNG.normal(size=(4, 6))

# PyTorch rounds some constants of a gradient to float32: 1 / alpha of CELU (so alpha = 2
# here; 1.3 gives gradients 1e-8 away from the exact ones) and Hardsigmoid's slope 1 / 6.
_GRAD_RTOL = {"Hardsigmoid": 1e-7}
LAYERS = [
    ("ReLU", (), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.3,), {}), ("ELU", (0.7,), {}),
    ("CELU", (2.0,), {}), ("SELU", (), {}), ("GELU", (), {"approximate": "tanh"}),
    ("GELU", (), {}), ("SiLU", (), {}), ("Mish", (), {}), ("Sigmoid", (), {}), ("Tanh", (), {}),
    ("LogSigmoid", (), {}), ("Softsign", (), {}), ("Tanhshrink", (), {}),
    ("Softplus", (2.0, 1.5), {}), ("Softmax", (1,), {}), ("LogSoftmax", (0,), {}),
    ("Softmin", (1,), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}),
    ("Hardtanh", (-0.5, 0.8), {}), ("Threshold", (0.2, -1.0), {}), ("Hardshrink", (0.4,), {}),
    ("Softshrink", (0.4,), {}), ("GLU", (1,), {}), ("PReLU", (), {}), ("Identity", (), {}),
    ("Flatten", (0,), {}), ("Unflatten", (1, (2, 3)), {}), ("LayerNorm", (6,), {}),
    ("Linear", (6, 2), {}), ("RReLU", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_forward_and_backward_match_torch(torch, name, args, kwargs):
    mt = getattr(torch.nn, name)(*args, **kwargs)
    ms = getattr(sg.nn, name)(*args, **kwargs)
    _copy_params(mt, ms, sg)
    mt.eval()
    ms.eval()        # (RReLU: the mean slope outside training)
    xt = torch.tensor(_X, requires_grad=True)
    xs = sg.tensor(_X, requires_grad=True)
    ot, os_ = mt(xt), ms(xs)
    _close(_np(os_), _np(ot))
    (ot * ot).sum().backward()
    (os_ * os_).sum().backward()
    _close(_np(xs.grad), _np(xt.grad), _GRAD_RTOL.get(name, 1e-12))
    for a, b in zip(ms.parameters(), mt.parameters()):
        _close(_np(a.grad), _np(b.grad))


def _loss_inputs(lib, kind):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(5, 3))
    if kind == "class":
        return lib.tensor(x, requires_grad=True), lib.tensor([0, 2, 1, 1, 0])
    if kind == "prob":
        return (lib.tensor(1 / (1 + np.exp(-x)), requires_grad=True),
                lib.tensor(rng.uniform(size=(5, 3))))
    if kind == "sign":
        return lib.tensor(x, requires_grad=True), lib.tensor(rng.choice([-1.0, 1.0], (5, 3)))
    return lib.tensor(x, requires_grad=True), lib.tensor(rng.normal(size=(5, 3)))


LOSSES = [
    ("MSELoss", {}, "real"), ("MSELoss", {"reduction": "sum"}, "real"),
    ("L1Loss", {"reduction": "none"}, "real"), ("HuberLoss", {"delta": 0.5}, "real"),
    ("SmoothL1Loss", {"beta": 0.5}, "real"), ("CrossEntropyLoss", {}, "class"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "reduction": "sum"}, "class"),
    ("NLLLoss", {}, "class"), ("BCELoss", {}, "prob"), ("BCEWithLogitsLoss", {}, "prob"),
    ("SoftMarginLoss", {}, "sign"), ("KLDivLoss", {"reduction": "batchmean"}, "prob"),
    ("MultiLabelSoftMarginLoss", {}, "prob"), ("MultiMarginLoss", {}, "class"),
    ("PoissonNLLLoss", {}, "prob"), ("HingeEmbeddingLoss", {}, "sign"),
]


@pytest.mark.parametrize("name,kwargs,kind", LOSSES, ids=[f"{c[0]}-{c[1]}" for c in LOSSES])
def test_loss_modules_match_torch(torch, name, kwargs, kind):
    xt, yt = _loss_inputs(torch, kind)
    xs, ys = _loss_inputs(sg, kind)
    lt = getattr(torch.nn, name)(**kwargs)(xt, yt)
    ls = getattr(sg.nn, name)(**kwargs)(xs, ys)
    _close(_np(ls), _np(lt))
    lt.sum().backward()
    ls.sum().backward()
    _close(_np(xs.grad), _np(xt.grad))


MULTI_INPUT_LOSSES = [
    ("MarginRankingLoss", {"margin": 0.2}, "pair"), ("CosineEmbeddingLoss", {"margin": 0.1},
                                                      "pair"),
    ("TripletMarginLoss", {"margin": 0.5, "swap": True}, "triplet"),
    ("GaussianNLLLoss", {"full": True}, "var"),
]


@pytest.mark.parametrize("name,kwargs,kind", MULTI_INPUT_LOSSES,
                         ids=[c[0] for c in MULTI_INPUT_LOSSES])
def test_multi_input_loss_modules_match_torch(torch, name, kwargs, kind):
    rng = np.random.default_rng(8)
    a, b, c = rng.normal(size=(3, 5, 3))
    sign = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
    results = []
    for lib in (torch, sg):
        x = lib.tensor(a, requires_grad=True)
        if kind == "pair":
            target = lib.tensor(sign if name == "CosineEmbeddingLoss" else sign[:, None] * 1.0)
            args = (x, lib.tensor(b), target)
        elif kind == "triplet":
            args = (x, lib.tensor(b), lib.tensor(c))
        else:
            args = (x, lib.tensor(b), lib.tensor(np.exp(c)))
        loss = getattr(lib.nn, name)(**kwargs)(*args)
        loss.backward()
        results.append((loss.item(), _np(x.grad)))
    _close(results[1][0], results[0][0])
    _close(results[1][1], results[0][1])


def test_weighted_loss_keeps_weight_as_buffer(torch):
    w = [1.0, 2.0, 0.5]
    lt = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    ls = sg.nn.CrossEntropyLoss(weight=sg.tensor(w))
    assert list(ls.state_dict()) == list(lt.state_dict()) == ["weight"]
    xs, ys = _loss_inputs(sg, "class")
    xt, yt = _loss_inputs(torch, "class")
    _close(_np(ls(xs, ys)), _np(lt(xt, yt)))
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert sg.nn.MSELoss(size_average=False).reduction == "sum"


# ====================================================================== the verifier
def test_verify_check_reads_parameters_from_the_model():
    sg.manual_seed(0)
    model = sg.nn.Sequential(sg.nn.Linear(3, 4), sg.nn.Tanh(), sg.nn.Linear(4, 1),
                             sg.nn.Flatten(0, 1))
    x, y = sg.randn(5, 3), sg.randn(5)
    loss_fn = sg.nn.MSELoss()
    before = [_np(p).copy() for p in model.parameters()]
    model(x).sum().backward()
    grads = [_np(p.grad).copy() for p in model.parameters()]
    report = sg.verify.check(lambda *ps: loss_fn(model(x), y), *model.parameters(),
                             names=[n for n, _ in model.named_parameters()])
    assert report.ok
    rows = {r.name: r for r in report.rows}
    assert set(rows) == {"output", "0.weight", "0.bias", "2.weight", "2.bias"}
    # the exact gradient is the real one (not the zero of an unused input)
    w2 = rows["2.weight"]
    assert np.abs(w2.numeric).max() > 1e-3 and w2.fd_rel_err < 1e-6
    # the Jacobian too, its finite-difference witness moving the parameters in place
    jac = sg.verify.check(lambda *ps: model(x), *model.parameters(), mode="jacobian")
    assert jac.ok and all(r.fd_rel_err < 1e-6 for r in jac.rows[1:])
    # the model is as it was: values, gradients, leaves
    for p, b, g in zip(model.parameters(), before, grads):
        assert np.array_equal(_np(p), b) and np.array_equal(_np(p.grad), g) and p.is_leaf


def test_verify_check_finds_a_wrong_rule_inside_a_model(mutate):
    from symgrad.ops.elementwise import TANH

    model = sg.nn.Sequential(sg.nn.Linear(2, 2), sg.nn.Tanh())
    x = sg.randn(3, 2)
    assert sg.autograd.gradcheck(lambda *ps: model(x).sum(), tuple(model.parameters()))
    mutate(TANH, vjp=(lambda xp, g, ans, x: g * (1 - ans),))
    report = sg.verify.check(lambda *ps: model(x).sum(), *model.parameters())
    assert not report.ok
    # gradcheck too (as PyTorch's, which perturbs the parameters in place)
    assert not sg.autograd.gradcheck(lambda *ps: model(x).sum(), tuple(model.parameters()),
                                     raise_exception=False)


# ====================================================================== import cost
def test_import_symgrad_loads_neither_layers_nor_optimizers():
    code = ("import sys, symgrad as torch; "
            "names = ('symgrad.nn.modules', 'symgrad.optim', 'symgrad.utils'); "
            "print(*[n in sys.modules for n in names]); "
            "torch.nn.Linear; torch.optim.SGD; torch.utils.data.DataLoader; "
            "from symgrad.nn import functional as F; "
            "print(*[n in sys.modules for n in names])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False"] * 3 + ["True"] * 3


# ====================================================================== nn.utils
def _clipped(lib, ref, clip):
    """A Linear with ``ref``'s parameters, its gradients after ``clip(parameters)``."""
    m = lib.nn.Linear(4, 3)
    _copy_params(ref, m, lib)
    m(lib.tensor(_X[:, :4])).pow(2).sum().backward()
    result = clip(lib, m.parameters())
    return result, m


@pytest.mark.parametrize("max_norm,norm_type", [(0.5, 2.0), (100.0, 2.0), (0.3, 1),
                                                (0.2, float("inf"))])
def test_clip_grad_norm_matches_torch(torch, max_norm, norm_type):
    ref = torch.nn.Linear(4, 3)
    out = [_clipped(lib, ref, lambda lib, ps: lib.nn.utils.clip_grad_norm_(ps, max_norm,
                                                                            norm_type))
           for lib in (torch, sg)]
    (tt, mt), (ts, ms) = out
    _close(ts.item(), tt.item())
    for a, b in zip(ms.parameters(), mt.parameters()):
        _close(_np(a.grad), _np(b.grad))


def test_clip_grad_value_and_vector_conversion(torch):
    ref = torch.nn.Linear(4, 3)
    for lib in (torch, sg):
        _, m = _clipped(lib, ref, lambda lib, ps: lib.nn.utils.clip_grad_value_(ps, 0.5))
        assert max(float(np.abs(_np(p.grad)).max()) for p in m.parameters()) == 0.5
        v = lib.nn.utils.parameters_to_vector(m.parameters())
        assert tuple(v.shape) == (15,) and v.grad_fn is not None
        lib.nn.utils.vector_to_parameters(v.detach() * 2, m.parameters())
        _close(_np(m.bias), 2 * _np(ref.bias))


# ====================================================================== normalization
NORMS = [
    ("BatchNorm1d", (3,), {}, (6, 3)), ("BatchNorm1d", (3,), {"momentum": None}, (4, 3, 5)),
    ("BatchNorm2d", (3,), {"affine": False}, (4, 3, 2, 2)),
    ("BatchNorm1d", (3,), {"track_running_stats": False}, (6, 3)),
    ("GroupNorm", (2, 6), {}, (4, 6, 2)), ("GroupNorm", (3, 6), {"affine": False}, (2, 6)),
    ("BatchNorm1d", (3,), {"bias": False}, (5, 3)), ("LayerNorm", ((3, 5),), {}, (4, 3, 5)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", NORMS, ids=[f"{c[0]}-{c[2]}" for c in NORMS])
def test_normalization_layers_match_torch(torch, name, args, kwargs, shape):
    rng = np.random.default_rng(2)
    mt = getattr(torch.nn, name)(*args, **kwargs)
    ms = getattr(sg.nn, name)(*args, **kwargs)
    assert repr(ms) == repr(mt)
    assert list(ms.state_dict()) == list(mt.state_dict())
    for _ in range(3):                      # training: batch statistics, running ones updated
        x = rng.normal(size=shape) * 2 + 1
        _close(_np(ms(sg.tensor(x))), _np(mt(torch.tensor(x))))
    for a, b in zip(ms.state_dict().values(), mt.state_dict().values()):
        _close(_np(a), b.numpy())           # (num_batches_tracked: 3 on both sides)
    mt.eval()
    ms.eval()
    x = rng.normal(size=shape)
    _close(_np(ms(sg.tensor(x))), _np(mt(torch.tensor(x))))


def test_batch_norm_checks_the_input_rank(torch):
    for lib in (torch, sg):
        with pytest.raises(ValueError, match="expected 2D or 3D input \\(got 4D input\\)"):
            lib.nn.BatchNorm1d(3)(lib.ones(2, 3, 1, 1))


# ====================================================================== a training program
def _classifier_run(lib, init_state, data):
    """A typical classification script: an MLP with batch norm (no bias before it: its
    gradient is rounding noise, which Adam would amplify), mini-batches,
    Adam with weight decay, a StepLR schedule, gradient clipping and an eval pass."""
    x_np, y_np = data
    nn = lib.nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 16, bias=False), nn.BatchNorm1d(16), nn.ReLU(),
                                      nn.Linear(16, 16), nn.Tanh())
            self.head = nn.Linear(16, 3)

        def forward(self, x):
            return self.head(self.body(x))

    model = MLP()
    model.load_state_dict({k: lib.tensor(v) for k, v in init_state.items()})
    loss_fn = nn.CrossEntropyLoss()
    optimizer = lib.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.05)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    losses = []
    for _ in range(10):
        model.train()
        for i in range(0, 60, 20):
            optimizer.zero_grad()
            loss = loss_fn(model(x[i:i + 20]), y[i:i + 20])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    model.eval()
    with lib.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).double().mean().item()
    return losses, accuracy, {k: _np(v) for k, v in model.state_dict().items()}


def test_classifier_training_program_matches_torch(torch_1thread):
    torch = torch_1thread
    rng = np.random.default_rng(4)
    torch.manual_seed(0)
    x = rng.normal(size=(60, 4))
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    init = {k: v.numpy().copy() for k, v in torch.nn.Sequential(
        torch.nn.Linear(4, 16, bias=False), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
        torch.nn.Linear(16, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)).state_dict().items()}
    init = {("head." + k[2:] if k.startswith("5.") else "body." + k): v
            for k, v in init.items()}
    lt, at, st = _classifier_run(torch, init, (x, y))
    ls, as_, ss = _classifier_run(sg, init, (x, y))
    _close(ls, lt, rtol=1e-10)
    assert as_ == at and at > 0.7
    assert list(ss) == list(st)
    for k in st:
        _close(ss[k], st[k], rtol=1e-10)
