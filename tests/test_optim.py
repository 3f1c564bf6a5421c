"""symgrad.optim against torch.optim: the same parameters, gradients and options give the
same parameters and state after several steps (to float64 rounding)."""

import numpy as np
import pytest

import symgrad as sg

STEPS = 6
_RNG = np.random.default_rng(3)
W0 = _RNG.normal(size=(3, 4))
B0 = _RNG.normal(size=(3,))
X = _RNG.normal(size=(5, 4))

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "maximize": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "foreach": False}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-6}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.05, "foreach": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "betas": (0.3, 0.7), "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.7}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.7, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "eps": 1e-3, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.2}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "eps": 1e-4}),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.7, "eps": 1e-4, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.05, "betas": (0.5, 0.8), "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.05, "momentum_decay": 0.1, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
    ("RAdam", {"lr": 0.05}),
    ("RAdam", {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "betas": (0.5, 0.6), "weight_decay": 0.1,
               "decoupled_weight_decay": True}),
]


def _train(lib, name, options, steps=STEPS):
    """A few steps on ``sum(tanh(x W^T + b)^2) + sum(W^4)`` (nonlinear, so every step sees
    a different gradient); returns the losses, the parameters and the optimizer."""
    w = lib.nn.Parameter(lib.tensor(W0.copy()))
    b = lib.nn.Parameter(lib.tensor(B0.copy()))
    x = lib.tensor(X)
    opt = getattr(lib.optim, name)([w, b], **options)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = lib.tanh(x @ w.T + b).pow(2).sum() + w.pow(4).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [w, b], opt


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_optimizer_matches_torch(torch, name, options):
    lt, pt, ot = _train(torch, name, options)
    ls, ps, os_ = _train(sg, name, options)
    _close(ls, lt)
    for a, b in zip(ps, pt):
        _close(a.detach().numpy(), b.detach().numpy())
    # the per-parameter state: the same keys, the same values
    for a, b in zip(ps, pt):
        st, ss = ot.state[b], os_.state[a]
        assert sorted(ss) == sorted(st)
        for key in st:
            if st[key] is not None:
                _close(ss[key].numpy(), st[key].numpy())


def test_param_groups_and_defaults_match_torch(torch):
    wt, ws = torch.nn.Parameter(torch.ones(2)), sg.nn.Parameter(sg.ones(2))
    vt, vs = torch.nn.Parameter(torch.ones(3)), sg.nn.Parameter(sg.ones(3))
    ot = torch.optim.SGD([{"params": [wt]}, {"params": vt, "lr": 0.5}], lr=0.1, momentum=0.9)
    os_ = sg.optim.SGD([{"params": [ws]}, {"params": vs, "lr": 0.5}], lr=0.1, momentum=0.9)
    for gt, gs in zip(ot.param_groups, os_.param_groups):
        assert {k: v for k, v in gs.items() if k != "params"} == {
            k: v for k, v in gt.items() if k != "params"}
    assert repr(os_) == repr(ot)
    for p in (wt, ws):
        p.grad = p.detach() * 0 + 1
    ot.step()
    os_.step()
    _close(ws.detach().numpy(), wt.detach().numpy())
    assert vs.grad is None and np.all(vs.detach().numpy() == 1)   # no gradient: untouched


def test_add_param_group_matches_torch(torch):
    """A layer added later (fine-tuning) with its own learning rate; defaults fill the rest."""
    out = []
    for lib in (torch, sg):
        w = lib.nn.Parameter(lib.tensor(W0.copy()))
        b = lib.nn.Parameter(lib.tensor(B0.copy()))
        opt = lib.optim.Adam([w], lr=0.1, betas=(0.8, 0.9))
        opt.add_param_group({"params": b, "lr": 0.01})
        for _ in range(3):
            opt.zero_grad()
            (lib.tanh(lib.tensor(X) @ w.T + b) ** 2).sum().backward()
            opt.step()
        groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
        out.append((groups, _np_of(w), _np_of(b), opt.state_dict()["param_groups"]))
    (gt, wt, bt, sdt), (gs, ws, bs, sds) = out
    assert gs == gt and sds == sdt
    _close(ws, wt)
    _close(bs, bt)
    with pytest.raises(ValueError, match="more than one"):
        sg.optim.SGD([w := sg.nn.Parameter(sg.ones(1))], lr=0.1).add_param_group({"params": w})


def _np_of(t):
    return t.detach().numpy().copy()


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam"])
def test_defaults_and_repr_match_torch(torch, name):
    ot = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(1))])
    os_ = getattr(sg.optim, name)([sg.nn.Parameter(sg.ones(1))])
    assert repr(os_) == repr(ot)


def test_state_dict_round_trip_continues_identically():
    _, _, opt = _train(sg, "Adam", {"lr": 0.05}, steps=3)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1] and sd["param_groups"][0]["params"] == [0, 1]
    # a fresh model and optimizer loaded with the state take the same next step
    w = sg.nn.Parameter(opt.param_groups[0]["params"][0].detach().clone())
    b = sg.nn.Parameter(opt.param_groups[0]["params"][1].detach().clone())
    fresh = sg.optim.Adam([w, b], lr=1.0)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == 0.05
    for o, ps in ((opt, opt.param_groups[0]["params"]), (fresh, [w, b])):
        o.zero_grad()
        (ps[0].sum() * ps[1].sum()).backward()
        o.step()
    _close(w.detach().numpy(), opt.param_groups[0]["params"][0].detach().numpy())
    assert fresh.state[w]["step"].item() == 4.0
    # loading copies: the first optimizer's state is not shared
    assert fresh.state[w]["exp_avg"] is not opt.state[opt.param_groups[0]["params"][0]][
        "exp_avg"]


def test_step_bumps_the_version_counter_and_stale_graphs_refuse():
    w = sg.nn.Parameter(sg.tensor([1.0, 2.0]))
    opt = sg.optim.SGD([w], lr=0.1)
    y = (w * w).sum()     # saves w
    y.backward(retain_graph=True)
    v = w._version
    opt.step()
    assert w._version == v + 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_flags_are_accepted_and_differentiable_is_refused():
    w = sg.nn.Parameter(sg.ones(1))
    sg.optim.Adam([w], foreach=True, fused=False, capturable=True)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        sg.optim.SGD([w], differentiable=True)


def test_closure_and_zero_grad():
    w = sg.nn.Parameter(sg.tensor([3.0]))
    opt = sg.optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with sg.no_grad():   # the closure runs with gradients on, as in PyTorch
        loss = opt.step(closure)
    assert loss.item() == 9.0 and w.item() == 1.5
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0]
    opt.zero_grad()
    assert w.grad is None


@pytest.mark.parametrize("make,error,match", [
    (lambda lib, p: lib.optim.SGD(p, lr=-1), ValueError, "Invalid learning rate"),
    (lambda lib, p: lib.optim.SGD(p, momentum=-1), ValueError, "Invalid momentum"),
    (lambda lib, p: lib.optim.SGD(p, nesterov=True), ValueError, "Nesterov momentum requires"),
    (lambda lib, p: lib.optim.Adam(p, betas=(1.0, 0.9)), ValueError,
     "Invalid beta parameter at index 0"),
    (lambda lib, p: lib.optim.RMSprop(p, alpha=-0.1), ValueError, "Invalid alpha value"),
    (lambda lib, p: lib.optim.Adagrad(p, lr_decay=-0.1), ValueError, "Invalid lr_decay value"),
    (lambda lib, p: lib.optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda lib, p: lib.optim.SGD(p[0], lr=0.1), TypeError, "iterable of Tensors"),
    (lambda lib, p: lib.optim.SGD([{"params": set(p)}], lr=0.1), TypeError, "ordered collections"),
    (lambda lib, p: lib.optim.SGD([p[0] * 2], lr=0.1), ValueError, "non-leaf"),
    (lambda lib, p: lib.optim.SGD([{"params": p}, {"params": p}]), ValueError, "more than one"),
])
def test_misuse_raises_as_torch(torch, make, error, match):
    for lib in (torch, sg):
        with pytest.raises(error, match=match):
            make(lib, [lib.nn.Parameter(lib.ones(2))])


# ====================================================================== lr_scheduler
SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 6, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 1 / (1 + epoch)}),
    ("MultiplicativeLR", {"lr_lambda": lambda epoch: 0.95}),
]


@pytest.mark.parametrize("name,options", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_lr_schedulers_match_torch(torch, name, options):
    rates = []
    for lib in (torch, sg):
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([{"params": [w]}, {"params": [], "lr": 0.5}], lr=0.1)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **options)
        seen = []
        for epoch in range(20):
            w.grad = w.detach() * 0 + 1
            opt.step()
            sched.step()
            if epoch == 10:             # a manual change the recursive forms carry on from
                opt.param_groups[0]["lr"] *= 2
            seen.append(sched.get_last_lr())
        rates.append((seen, w.detach().numpy().copy(), opt.param_groups[0]["initial_lr"]))
    (rt, wt, it), (rs, ws, is_) = rates
    np.testing.assert_allclose(rs, rt, rtol=1e-14)
    _close(ws, wt)
    assert is_ == it == 0.1


def test_reduce_lr_on_plateau_matches_torch(torch):
    losses = [5, 4, 4, 4, 4, 3.9999, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 1]
    for options in ({"patience": 2},
                    {"patience": 2, "mode": "max", "threshold_mode": "abs", "threshold": 0.5},
                    {"patience": 1, "cooldown": 2, "min_lr": 0.02, "factor": 0.5}):
        rates = []
        for lib in (torch, sg):
            opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
            sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
            seen = []
            for loss in losses:
                sched.step(loss)
                seen.append(opt.param_groups[0]["lr"])
            rates.append(seen)
        assert rates[0] == rates[1]
