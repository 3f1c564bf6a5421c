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
def _sched(name, **kw):
    return lambda lib, opt: getattr(lib.optim.lr_scheduler, name)(opt, **kw)


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


#: (id, optimizer name, optimizer options, scheduler maker, number of steps)
SCHEDULES = [
    ("LinearLR", "SGD", {}, _sched("LinearLR"), 10),
    ("LinearLR-down", "SGD", {}, _sched("LinearLR", start_factor=1.0, end_factor=0.05,
                                        total_iters=7), 12),
    ("ConstantLR", "SGD", {}, _sched("ConstantLR", factor=0.25, total_iters=4), 8),
    ("PolynomialLR", "SGD", {}, _sched("PolynomialLR", total_iters=8, power=1.7), 12),
    ("SequentialLR", "SGD", {}, _sequential, 16),
    ("ChainedScheduler", "SGD", {}, _chained, 16),
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


@pytest.mark.parametrize("case", [c for c in SCHEDULES if c[0] != "Cyclic-scale-fn"],
                         ids=[c[0] for c in SCHEDULES if c[0] != "Cyclic-scale-fn"])
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
