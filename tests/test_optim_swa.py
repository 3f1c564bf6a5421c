"""``optim.swa_utils`` against PyTorch's: averaged weights (SWA and EMA), the SWALR
schedule, and batch-norm statistics recomputed by ``update_bn``."""

import numpy as np
import pytest

import symgrad as sg


def _net(m):
    m.manual_seed(0)
    return m.nn.Sequential(m.nn.Linear(3, 4), m.nn.BatchNorm1d(4), m.nn.ReLU(),
                           m.nn.Linear(4, 2))


def _pair(torch):
    a, b = _net(sg), _net(torch)
    b.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in a.state_dict().items()})
    return a, b


def _train_steps(m, net, avg, steps=4):
    opt = m.optim.SGD(net.parameters(), lr=0.1)
    for k in range(steps):
        x = m.tensor(np.cos(np.arange(15.0) + k).reshape(5, 3))
        opt.zero_grad()
        (net(x) ** 2).sum().backward()
        opt.step()
        avg.update_parameters(net)


@pytest.mark.parametrize("kind", ["swa", "ema", "ema_buffers", "multi"])
def test_averaged_model_as_pytorch(torch, kind):
    a, b = _pair(torch)
    models = []
    for m, net in ((sg, a), (torch, b)):
        u = m.optim.swa_utils
        kw = {"swa": {}, "ema": {"avg_fn": u.get_ema_avg_fn(0.9)},
              "ema_buffers": {"multi_avg_fn": u.get_ema_multi_avg_fn(0.8), "use_buffers": True},
              "multi": {"multi_avg_fn": u.get_swa_multi_avg_fn()}}[kind]
        avg = u.AveragedModel(net, **kw)
        _train_steps(m, net, avg)
        models.append(avg)
    sa, sb = models[0].state_dict(), models[1].state_dict()
    assert list(sa) == list(sb)
    for k in sb:
        np.testing.assert_allclose(sa[k].numpy(), sb[k].numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=k)


def test_update_bn_as_pytorch(torch):
    a, b = _pair(torch)
    data = [np.sin(np.arange(12.0) * (k + 1)).reshape(4, 3) for k in range(3)]
    for m, net in ((sg, a), (torch, b)):
        net.eval()
        loader = m.utils.data.DataLoader(m.utils.data.TensorDataset(
            m.tensor(np.concatenate(data))), batch_size=4)
        m.optim.swa_utils.update_bn(loader, net)
        assert not net.training and net[1].momentum == 0.1
    for k in ("1.running_mean", "1.running_var", "1.num_batches_tracked"):
        np.testing.assert_allclose(a.state_dict()[k].numpy(), b.state_dict()[k].numpy(),
                                   rtol=1e-12, err_msg=k)


@pytest.mark.parametrize("strategy,epochs", [("cos", 3), ("linear", 4), ("cos", 0)])
def test_swalr_schedule_as_pytorch(torch, strategy, epochs):
    rates = []
    for m in (sg, torch):
        w = m.nn.Parameter(m.ones(2))
        opt = m.optim.SGD([w], lr=0.5)
        sched = m.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=epochs,
                                        anneal_strategy=strategy)
        seen = []
        for _ in range(7):
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr()[0])
        rates.append(seen)
    np.testing.assert_allclose(rates[0], rates[1], rtol=1e-13)


def test_swalr_misuse_raises_as_pytorch(torch):
    for m in (sg, torch):
        opt = m.optim.SGD([m.nn.Parameter(m.ones(1))], lr=0.1)
        with pytest.raises(ValueError, match="anneal_strategy must be one of"):
            m.optim.swa_utils.SWALR(opt, 0.01, anneal_strategy="step")
        with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
            m.optim.swa_utils.SWALR(opt, 0.01, anneal_epochs=-1)
