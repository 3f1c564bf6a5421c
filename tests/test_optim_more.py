"""The added schedulers (warmups, composites, cyclic schedules) and optimizers (Rprop,
ASGD, LBFGS) against PyTorch: the same rates, momenta, parameters and state."""

import warnings

import numpy as np
import pytest

import symgrad as sg


def _close(a, b, rtol=1e-12):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=rtol, atol=1e-15)


# ====================================================================== lr schedulers
class _sched:
    """Makes ``lr_scheduler.<name>(opt, **kw)`` for either library."""

    def __init__(self, name, **kw):
        self.name, self.kw = name, kw

    def __call__(self, lib, opt, **more):
        return getattr(lib.optim.lr_scheduler, self.name)(opt, **self.kw, **more)


def _sequential(lib, opt):
    s = lib.optim.lr_scheduler
    return s.SequentialLR(opt, [s.LinearLR(opt, start_factor=0.1, total_iters=4),
                                s.ExponentialLR(opt, gamma=0.8),
                                s.CosineAnnealingLR(opt, T_max=5, eta_min=0.001)],
                          milestones=[4, 9])


def _chained(lib, opt):
    s = lib.optim.lr_scheduler
    return s.ChainedScheduler([s.ConstantLR(opt, factor=0.5, total_iters=3),
                               s.ExponentialLR(opt, gamma=0.9),
                               s.PolynomialLR(opt, total_iters=12, power=2.0)])


def _nested(lib, opt):
    """A chained warmup (constant factor times exponential decay), then cosine annealing."""
    s = lib.optim.lr_scheduler
    warm = s.ChainedScheduler([s.ConstantLR(opt, factor=0.5, total_iters=2),
                               s.ExponentialLR(opt, gamma=0.9)])
    return s.SequentialLR(opt, [warm, s.CosineAnnealingLR(opt, T_max=4)], milestones=[5])


#: (id, optimizer name, optimizer options, scheduler maker, number of steps)
SCHEDULES = [
    ("LinearLR", "SGD", {}, _sched("LinearLR"), 10),
    ("LinearLR-down", "SGD", {}, _sched("LinearLR", start_factor=1.0, end_factor=0.05,
                                        total_iters=7), 12),
    ("ConstantLR", "SGD", {}, _sched("ConstantLR", factor=0.25, total_iters=4), 8),
    ("PolynomialLR", "SGD", {}, _sched("PolynomialLR", total_iters=8, power=1.7), 12),
    ("SequentialLR", "SGD", {}, _sequential, 16),
    ("ChainedScheduler", "SGD", {}, _chained, 16),
    ("Sequential-of-chained", "SGD", {}, _nested, 12),
    ("WarmRestarts", "SGD", {}, _sched("CosineAnnealingWarmRestarts", T_0=3), 14),
    ("WarmRestarts-Tmult", "SGD", {}, _sched("CosineAnnealingWarmRestarts", T_0=2,
                                             T_mult=2, eta_min=0.002), 20),
    ("OneCycle-cos-SGD", "SGD", {"momentum": 0.9},
     _sched("OneCycleLR", max_lr=[0.5, 1.0], total_steps=15), 15),
    ("OneCycle-linear-Adam", "Adam", {"betas": (0.9, 0.99)},
     _sched("OneCycleLR", max_lr=0.3, epochs=3, steps_per_epoch=5, pct_start=0.4,
            anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0), 15),
    ("OneCycle-three-phase", "SGD", {"momentum": 0.9},
     _sched("OneCycleLR", max_lr=0.4, total_steps=20, three_phase=True,
            base_momentum=[0.8, 0.7], max_momentum=0.95), 20),
    ("OneCycle-no-momentum", "RMSprop", {},
     _sched("OneCycleLR", max_lr=0.2, total_steps=10, cycle_momentum=False), 10),
    ("Cyclic-triangular", "SGD", {"momentum": 0.9},
     _sched("CyclicLR", base_lr=0.01, max_lr=[0.1, 0.3], step_size_up=3), 20),
    ("Cyclic-triangular2", "SGD", {"momentum": 0.9},
     _sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=2, step_size_down=4,
            mode="triangular2"), 25),
    ("Cyclic-exp-range-Adam", "Adam", {},
     _sched("CyclicLR", base_lr=[0.001, 0.002], max_lr=0.05, step_size_up=3,
            mode="exp_range", gamma=0.9, base_momentum=0.85, max_momentum=0.95), 20),
    ("Cyclic-no-momentum", "SGD", {},
     _sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=4, cycle_momentum=False), 12),
    ("Cyclic-scale-fn", "SGD", {"momentum": 0.5},
     _sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=2,
            scale_fn=lambda x: 0.5 ** x, scale_mode="iterations"), 12),
]


def _groups(lib, name, options):
    w, v = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(3))
    return [w, v], getattr(lib.optim, name)([{"params": [w]}, {"params": [v], "lr": 0.5}],
                                            lr=0.1, **options)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum", 0.0)
            for g in opt.param_groups]


def _run_schedule(lib, name, options, make, steps):
    params, opt = _groups(lib, name, options)
    sched = make(lib, opt)
    seen = [(sched.get_last_lr(), _momenta(opt))]
    for _ in range(steps):
        for p in params:
            p.grad = p.detach() * 0 + 1
        opt.step()
        sched.step()
        seen.append((sched.get_last_lr(), _momenta(opt)))
    return seen, [p.detach().numpy().copy() for p in params], opt


@pytest.mark.parametrize("case", SCHEDULES, ids=[c[0] for c in SCHEDULES])
def test_schedules_match_torch(torch, case):
    _, name, options, make, steps = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st, pt, ot = _run_schedule(torch, name, options, make, steps)
        ss, ps, os_ = _run_schedule(sg, name, options, make, steps)
    _close([lr for lr, _ in ss], [lr for lr, _ in st])
    _close([m for _, m in ss], [m for _, m in st])
    for a, b in zip(ps, pt):
        _close(a, b)
    for gs, gt in zip(os_.param_groups, ot.param_groups):
        for key in ("lr", "initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
            assert (key in gs) == (key in gt), key
            if key in gt:
                _close(gs[key], gt[key])


def test_warm_restarts_fractional_epochs_match_torch(torch):
    """``step(epoch)`` with a fractional epoch per batch (the documented use)."""
    epochs = [0.0, 0.25, 0.5, 1.75, 2.0, 3.5, 5.9, 6.0, 6.1, 13.999, 14.0, 20.5, 2.5, 30.25]
    for t_mult in (1, 2, 3):
        out = []
        for lib in (torch, sg):
            _, opt = _groups(lib, "SGD", {})
            sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(
                opt, T_0=2, T_mult=t_mult, eta_min=0.01)
            seen = []
            for e in epochs:
                sched.step(e)
                seen.append(sched.get_last_lr() + [sched.T_cur, sched.T_i, sched.last_epoch])
            out.append(seen)
        _close(out[1], out[0])
    with pytest.raises(ValueError, match="non-negative epoch"):
        sched.step(-1)


def test_closed_form_epochs_match_torch(torch):
    """``step(epoch)`` of the warmups uses PyTorch's closed forms (and warns)."""
    for name, kw in (("LinearLR", {"start_factor": 0.2, "total_iters": 5}),
                     ("ConstantLR", {"factor": 0.3, "total_iters": 3}),
                     ("PolynomialLR", {"total_iters": 6, "power": 0.5})):
        out = []
        for lib in (torch, sg):
            _, opt = _groups(lib, "SGD", {})
            sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
            seen = []
            for e in (3, 1, 7, 2, 5):
                opt.step()
                with pytest.warns(UserWarning, match="epoch parameter"):
                    sched.step(e)
                seen.append(sched.get_last_lr())
            out.append(seen)
        _close(out[1], out[0])


@pytest.mark.parametrize("case", SCHEDULES, ids=[c[0] for c in SCHEDULES])
def test_state_dict_resumes_the_schedule(case):
    """A scheduler loaded from ``state_dict()`` (with its optimizer's) continues exactly."""
    _, name, options, make, steps = case
    full, _, _ = _run_schedule(sg, name, options, make, steps)
    params, opt = _groups(sg, name, options)
    sched = make(sg, opt)
    half = steps // 2
    for _ in range(half):
        opt.step()
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved
    params2, opt2 = _groups(sg, name, options)
    sched2 = make(sg, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    seen = []
    for _ in range(steps - half):
        opt2.step()
        sched2.step()
        seen.append((sched2.get_last_lr(), _momenta(opt2)))
    _close([lr for lr, _ in seen], [lr for lr, _ in full[half + 1:]])
    _close([m for _, m in seen], [m for _, m in full[half + 1:]])


class _Halving:
    """A callable-object ``scale_fn``: its attributes go into the state_dict."""

    def __init__(self, base):
        self.base = base

    def __call__(self, cycle):
        return self.base ** cycle


def test_cyclic_state_dict_keeps_a_callable_objects_attributes(torch):
    saved = []
    for lib in (torch, sg):
        _, opt = _groups(lib, "SGD", {"momentum": 0.9})
        sched = lib.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2,
                                                scale_fn=_Halving(0.5))
        sd = sched.state_dict()
        saved.append(sd["_scale_fn_custom"])
        sched2 = lib.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2,
                                                 scale_fn=_Halving(0.9))
        sched2.load_state_dict(sd)
        assert sched2._scale_fn_custom.base == 0.5
    assert saved[0] == saved[1] == {"base": 0.5}


@pytest.mark.parametrize("make,error,match", [
    (_sched("LinearLR", start_factor=0), ValueError, "Starting multiplicative factor"),
    (_sched("LinearLR", end_factor=1.5), ValueError, "Ending multiplicative factor"),
    (_sched("ConstantLR", factor=2.0), ValueError, "between 0 and 1"),
    (_sched("CosineAnnealingWarmRestarts", T_0=0), ValueError, "positive integer T_0"),
    (_sched("CosineAnnealingWarmRestarts", T_0=2, T_mult=0), ValueError, "T_mult >= 1"),
    (_sched("OneCycleLR", max_lr=0.1), ValueError, "either total_steps OR"),
    (_sched("OneCycleLR", max_lr=0.1, total_steps=0), ValueError, "positive integer total"),
    (_sched("OneCycleLR", max_lr=0.1, total_steps=5, pct_start=1), ValueError, "pct_start"),
    (_sched("OneCycleLR", max_lr=0.1, total_steps=5, anneal_strategy="x"), ValueError,
     "anneal_strategy"),
    (_sched("OneCycleLR", max_lr=[0.1, 0.2, 0.3], total_steps=5), ValueError,
     "max_lr must have the same length"),
    (_sched("CyclicLR", base_lr=0.1, max_lr=1.0, mode="x"), ValueError, "mode is invalid"),
    (lambda lib, opt: lib.optim.lr_scheduler.SequentialLR(
        opt, [lib.optim.lr_scheduler.ConstantLR(opt)], milestones=[2]), ValueError,
     "one more than the number of milestone"),
    (lambda lib, opt: lib.optim.lr_scheduler.SequentialLR(
        opt, [lib.optim.lr_scheduler.ReduceLROnPlateau(opt)], milestones=[]), ValueError,
     "does not support `ReduceLROnPlateau`"),
    (lambda lib, opt: lib.optim.lr_scheduler.ChainedScheduler([]), ValueError,
     "at least one scheduler"),
])
def test_scheduler_misuse_raises_as_torch(torch, make, error, match):
    for lib in (torch, sg):
        _, opt = _groups(lib, "SGD", {})
        with pytest.raises(error, match=match):
            make(lib, opt)


def test_cycle_momentum_needs_a_momentum(torch):
    for lib in (torch, sg):
        opt = lib.optim.Adagrad([lib.nn.Parameter(lib.ones(1))])
        with pytest.raises(ValueError, match="must support momentum or beta1"):
            lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=5)
        with pytest.raises(ValueError, match="must support momentum or beta1"):
            lib.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1)


def test_one_cycle_refuses_steps_past_the_end(torch):
    for lib in (torch, sg):
        _, opt = _groups(lib, "SGD", {"momentum": 0.9})
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            sched.step()


# ====================================================================== optimizers
_RNG = np.random.default_rng(11)
W0, B0, X = _RNG.normal(size=(3, 4)), _RNG.normal(size=(3,)), _RNG.normal(size=(5, 4))

FIRST_ORDER = [
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),
    ("Rprop", {"lr": 0.05, "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "lambd": 0.1, "alpha": 0.5, "t0": 3, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.02, "t0": 0, "maximize": True}),
]


def _train(lib, name, options, steps=8):
    """Steps on ``sum(tanh(x W^T + b)^2) + sum(W^4)``: the gradient changes sign for some
    elements (Rprop's backtracking) and the averaging of ASGD starts at ``t0``."""
    w = lib.nn.Parameter(lib.tensor(W0.copy()))
    b = lib.nn.Parameter(lib.tensor(B0.copy()))
    opt = getattr(lib.optim, name)([w, b], **options)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = lib.tanh(lib.tensor(X) @ w.T + b).pow(2).sum() + w.pow(4).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [w, b], opt


def _same_state(ss, st, rtol=1e-12):
    assert sorted(ss) == sorted(st)
    for key, value in st.items():
        if isinstance(value, list):
            assert len(ss[key]) == len(value)
            for a, b in zip(ss[key], value):
                if b is not None:
                    _close(_np(a), _np(b), rtol)
        elif value is not None:
            _close(_np(ss[key]), _np(value), rtol)


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x, dtype=float)


@pytest.mark.parametrize("name,options", FIRST_ORDER, ids=[f"{n}-{o}" for n, o in FIRST_ORDER])
def test_first_order_optimizers_match_torch(torch, name, options):
    lt, pt, ot = _train(torch, name, options)
    ls, ps, os_ = _train(sg, name, options)
    _close(ls, lt)
    for a, b in zip(ps, pt):
        _close(a.detach().numpy(), b.detach().numpy())
        _same_state(os_.state[a], ot.state[b])
    assert repr(os_) == repr(ot)


def _least_squares(lib):
    a = lib.tensor(_RNG_LS.normal(size=(6, 3)))
    y = lib.tensor(_RNG_LS.normal(size=(6,)))
    w = lib.nn.Parameter(lib.zeros(3))
    b = lib.nn.Parameter(lib.tensor([0.5]))
    return [w, b], lambda: ((a @ w + b - y) ** 2).sum() + 0.1 * (w ** 4).sum()


def _rosenbrock(lib):
    xy = lib.nn.Parameter(lib.tensor([-1.2, 1.0, -0.5, 0.8]))
    return [xy], lambda: (100 * (xy[1::2] - xy[::2] ** 2) ** 2 + (1 - xy[::2]) ** 2).sum()


_RNG_LS = None
PROBLEMS = {"least_squares": _least_squares, "rosenbrock": _rosenbrock}

LBFGS_CASES = [
    ("least_squares", {"lr": 0.5, "max_iter": 4}, 3),
    ("least_squares", {"history_size": 2, "max_iter": 6}, 3),
    ("least_squares", {"line_search_fn": "strong_wolfe", "max_iter": 5}, 3),
    ("rosenbrock", {"lr": 0.1, "max_iter": 5, "history_size": 3}, 4),
    ("rosenbrock", {"line_search_fn": "strong_wolfe", "history_size": 4}, 3),
    ("rosenbrock", {"line_search_fn": "strong_wolfe", "max_iter": 7, "max_eval": 9}, 4),
    ("rosenbrock", {"tolerance_change": 1e-3, "tolerance_grad": 1e-2}, 3),
]


def _run_lbfgs(lib, problem, options, steps):
    global _RNG_LS
    _RNG_LS = np.random.default_rng(5)
    params, loss_fn = PROBLEMS[problem](lib)
    opt = lib.optim.LBFGS(params, **options)
    calls = []

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        calls.append(loss.item())
        return loss

    returned = [opt.step(closure).item() for _ in range(steps)]
    return returned, calls, params, opt


@pytest.fixture
def torch_rounding(torch, monkeypatch):
    """LBFGS's inner products and ``y + a x`` updates rounded as this torch build rounds
    them (MKL's ``dot`` summation order, a fused multiply-add): with them the algorithm
    must reproduce torch's to the last bits, which checks every branch and formula."""
    import symgrad.optim.lbfgs as lbfgs
    import symgrad.optim.wolfe as wolfe

    def dot(a, b):
        return np.float64(torch.from_numpy(np.ascontiguousarray(a)).dot(
            torch.from_numpy(np.ascontiguousarray(b))).item())

    def axpy(y, alpha, x):
        return torch.from_numpy(np.ascontiguousarray(y)).add(
            torch.from_numpy(np.ascontiguousarray(x)), alpha=float(alpha)).numpy()

    monkeypatch.setattr(wolfe, "dot", dot)
    monkeypatch.setattr(lbfgs, "dot", dot)
    monkeypatch.setattr(lbfgs, "axpy", axpy)
    return torch


@pytest.mark.parametrize("problem,options,steps", LBFGS_CASES,
                         ids=[f"{p}-{o}" for p, o, _ in LBFGS_CASES])
def test_lbfgs_is_torchs_algorithm(torch_rounding, problem, options, steps):
    rt, ct, pt, ot = _run_lbfgs(torch_rounding, problem, options, steps)
    rs, cs, ps, os_ = _run_lbfgs(sg, problem, options, steps)
    assert len(cs) == len(ct)         # the same number of closure evaluations
    _close(cs, ct)
    _close(rs, rt)
    for a, b in zip(ps, pt):
        _close(a.detach().numpy(), b.detach().numpy())
    if problem == "rosenbrock":       # its loss and gradient are bitwise torch's
        assert cs == ct
        _same_state(os_.state[ps[0]], ot.state[pt[0]])
    else:   # the matmul's last bits differ; the near-converged curvature pairs cancel them
        _same_state(os_.state[ps[0]], ot.state[pt[0]], rtol=1e-7)


@pytest.mark.parametrize("problem,options,steps", LBFGS_CASES,
                         ids=[f"{p}-{o}" for p, o, _ in LBFGS_CASES])
def test_lbfgs_matches_torch(torch, problem, options, steps):
    """With numpy's own rounding: the same path, and the parameters equal up to the
    rounding that the line search and the curvature pairs amplify over the steps."""
    rt, ct, pt, ot = _run_lbfgs(torch, problem, options, steps)
    rs, cs, ps, os_ = _run_lbfgs(sg, problem, options, steps)
    assert len(cs) == len(ct)
    _close(cs, ct, rtol=1e-3)
    for a, b in zip(ps, pt):
        _close(a.detach().numpy(), b.detach().numpy(), rtol=1e-5)
    assert os_.state[ps[0]]["func_evals"] == ot.state[pt[0]]["func_evals"]
    assert os_.state[ps[0]]["n_iter"] == ot.state[pt[0]]["n_iter"]


def test_lbfgs_misuse_raises_as_torch(torch):
    for lib in (torch, sg):
        w, v = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(1))
        with pytest.raises(ValueError, match="doesn't support per-parameter options"):
            lib.optim.LBFGS([{"params": [w]}, {"params": [v]}])
        opt = lib.optim.LBFGS([w], line_search_fn="armijo")

        def closure():
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            return loss

        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(closure)
        with pytest.raises(TypeError):
            opt.step()
    with pytest.raises(ValueError, match="Invalid eta values"):
        sg.optim.Rprop([w], etas=(1.5, 2.0))


def test_lbfgs_repr_and_state_dict_resume(torch):
    """Defaults as torch's; a fresh LBFGS loaded from ``state_dict()`` takes the same next
    step as the one that continues (its curvature pairs are carried)."""
    assert repr(sg.optim.LBFGS([sg.nn.Parameter(sg.ones(1))], line_search_fn="strong_wolfe")
                ) == repr(torch.optim.LBFGS([torch.nn.Parameter(torch.ones(1))],
                                            line_search_fn="strong_wolfe"))
    _, _, params, opt = _run_lbfgs(sg, "rosenbrock", {"max_iter": 3, "history_size": 3}, 2)
    sd = opt.state_dict()
    copy = [sg.nn.Parameter(p.detach().clone()) for p in params]
    fresh = sg.optim.LBFGS(copy, max_iter=3, history_size=3)
    fresh.load_state_dict(sd)
    assert len(fresh.state[copy[0]]["old_dirs"]) == len(opt.state[params[0]]["old_dirs"]) > 0
    for ps, o in ((params, opt), (copy, fresh)):
        def closure(ps=ps, o=o):
            o.zero_grad()
            xy = ps[0]
            loss = (100 * (xy[1::2] - xy[::2] ** 2) ** 2 + (1 - xy[::2]) ** 2).sum()
            loss.backward()
            return loss
        o.step(closure)
    np.testing.assert_array_equal(copy[0].detach().numpy(), params[0].detach().numpy())


RESUMABLE = [c for c in SCHEDULES if isinstance(c[3], _sched)] + [
    ("CosineAnnealingLR", "SGD", {}, _sched("CosineAnnealingLR", T_max=4, eta_min=0.01), 9),
    ("ExponentialLR", "SGD", {}, _sched("ExponentialLR", gamma=0.8), 8),
    ("MultiplicativeLR", "SGD", {}, _sched("MultiplicativeLR", lr_lambda=lambda e: 0.9), 8)]


@pytest.mark.parametrize("case", RESUMABLE, ids=[c[0] for c in RESUMABLE])
def test_resuming_with_last_epoch_matches_torch(torch, case):
    """A scheduler made with ``last_epoch=k`` over an optimizer whose groups already hold
    ``initial_lr`` (a resumed run) continues as torch's does."""
    _, name, options, make, steps = case

    def run(lib):
        params, opt = _groups(lib, name, options)
        sched = make(lib, opt)
        for _ in range(3):
            opt.step()
            sched.step()
        resumed = make(lib, opt, last_epoch=3)
        seen = [resumed.get_last_lr() + _momenta(opt)]
        for _ in range(steps - 4):
            opt.step()
            resumed.step()
            seen.append(resumed.get_last_lr() + _momenta(opt))
        return seen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, got = run(torch), run(sg)
    _close(got, expected)
