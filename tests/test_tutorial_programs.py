"""Published PyTorch tutorial programs, shrunk, run once with symgrad and once with PyTorch
on the same data: what they print (values, shapes, dtypes, grad_fn names) must agree, and
the differences they showed are pinned here."""

import math

import numpy as np
import pytest

import symgrad as sg
from symgrad.autograd import functional as AF


def _fit_cubic(m, steps=30, n=200):
    """"Learning PyTorch with Examples": the sin fit by autograd, losses per step."""
    x = m.tensor(np.linspace(-math.pi, math.pi, n), dtype=m.float32)   # same points in both
    y = m.sin(x)
    a, b, c, d = (m.tensor(v, dtype=m.float32, requires_grad=True)
                  for v in (0.1, -0.4, 0.2, 0.05))
    losses = []
    for _ in range(steps):
        loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
        loss.backward()
        with m.no_grad():
            for p in (a, b, c, d):
                p -= 1e-5 * p.grad
                p.grad = None
        losses.append(loss.item())
    return losses, loss.grad_fn.name()


def test_cubic_fit_prints_pytorchs_losses(torch):
    """The by-hand autograd fit in float32 follows PyTorch's losses step by step."""
    got, want = _fit_cubic(sg), _fit_cubic(torch)
    assert got[1] == want[1] == "SumBackward0"
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("exponent", [3, 3.0, -2, 2])
def test_scalar_powers_round_as_pytorch(torch, dtype, exponent):
    x = np.random.default_rng(1).standard_normal(4000).astype(dtype)
    got = (sg.tensor(x) ** exponent).numpy()
    want = (torch.tensor(x) ** exponent).numpy()
    np.testing.assert_array_equal(got, want)


def test_integer_cube_stays_integer(torch):
    got = sg.tensor([1, -2, 3]) ** 3
    want = torch.tensor([1, -2, 3]) ** 3
    assert got.tolist() == want.tolist() and got.dtype.name == "int64" == str(want.dtype)[6:]


def _legendre(m):
    class LegendrePolynomial3(m.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    x = m.tensor(np.linspace(-1, 1, 7))
    c = m.full((), 0.1, requires_grad=True)
    d = m.full((), 0.3, requires_grad=True)
    p = LegendrePolynomial3.apply(c + d * x)
    (p * x).sum().backward()
    return p.tolist(), type(p.grad_fn).__name__, c.grad.item(), d.grad.item(), p.grad_fn


def test_custom_function_legendre(torch):
    got, want = _legendre(sg), _legendre(torch)
    assert got[1] == want[1] == "LegendrePolynomial3Backward"
    np.testing.assert_allclose(got[0], want[0], rtol=1e-14)
    np.testing.assert_allclose(got[2:4], want[2:4], rtol=1e-14)


def _poly_nn(m, opt_name):
    x = m.tensor(np.linspace(-math.pi, math.pi, 50))
    xx = x.unsqueeze(-1).pow(m.tensor([1, 2, 3]))
    model = m.nn.Sequential(m.nn.Linear(3, 1), m.nn.Flatten(0, 1))
    model.load_state_dict({"0.weight": m.tensor([[0.2, -0.1, 0.05]]), "0.bias": m.tensor([0.3])})
    loss_fn = m.nn.MSELoss(reduction="sum")
    opt = (m.optim.RMSprop(model.parameters(), lr=1e-3) if opt_name == "rmsprop"
           else m.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9))
    out = []
    for _ in range(20):
        y_pred = model(xx)
        loss = loss_fn(y_pred, m.sin(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(loss.item())
    return out, tuple(y_pred.shape), y_pred.grad_fn.name(), str(xx.dtype)[-7:]


@pytest.mark.parametrize("opt_name", ["rmsprop", "sgd"])
def test_sequential_flatten_mse_sum(torch, opt_name):
    got, want = _poly_nn(sg, opt_name), _poly_nn(torch, opt_name)
    assert got[1:] == want[1:]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)


def test_jacobian_forward_mode_nests_in_lists_as_pytorch(torch):
    """PyTorch's forward-mode strategy returns lists where reverse-mode returns tuples."""
    def shapes(r):
        if isinstance(r, (list, tuple)):
            return type(r).__name__, [shapes(e) for e in r]
        return tuple(r.shape)

    a, b = np.array([0.3, 0.7]), np.array([1.5, -0.5])
    cases = [
        lambda m, F, x, y: F.jacobian(lambda p, q: 2 * p.exp() + 3 * q, (x, y),
                                      vectorize=True, strategy="forward-mode"),
        lambda m, F, x, y: F.jacobian(lambda p, q: (p * q, p + q), (x, y),
                                      vectorize=True, strategy="forward-mode"),
        lambda m, F, x, y: F.jacobian(lambda p: (p, 2 * p), x, vectorize=True,
                                      strategy="forward-mode"),
        lambda m, F, x, y: F.jacobian(lambda p, q: (p * q, p + q), (x, y)),
        lambda m, F, x, y: F.hessian(lambda p, q: (p * p * q).sum(), (x, y), vectorize=True,
                                     outer_jacobian_strategy="forward-mode"),
        lambda m, F, x, y: F.hessian(lambda p, q: (p * p * q).sum(), (x, y)),
    ]
    import torch.autograd.functional as TF

    for case in cases:
        got = case(sg, AF, sg.tensor(a), sg.tensor(b))
        want = case(torch, TF, torch.tensor(a), torch.tensor(b))
        assert shapes(got) == shapes(want)
        flat_g = [got] if not isinstance(got, (list, tuple)) else got
        flat_w = [want] if not isinstance(want, (list, tuple)) else want
        for g, w in zip(_leaves(flat_g), _leaves(flat_w)):
            # (PyTorch's forward-over-reverse Hessian leaves its results attached to a graph)
            np.testing.assert_allclose(g.numpy(), w.detach().numpy(), rtol=1e-14)


def _leaves(r):
    if isinstance(r, (list, tuple)):
        return [t for e in r for t in _leaves(e)]
    return [r]


NUMPY_SCALAR_DATA = {   # tutorials feed numpy results straight into torch.tensor
    "float32_scalar": lambda: np.float32(1.5),
    "float64_scalar": lambda: np.float64(1.5),
    "int32_scalar": lambda: np.int32(3),
    "float16_scalar": lambda: np.float16(1.5),
    "uint8_scalar": lambda: np.uint8(7),
    "float32_and_int": lambda: [np.float32(1), 2],
    "float16_and_float": lambda: [np.float16(1), 2.0],
    "int16_and_int8": lambda: [[np.int16(1)], [np.int8(2)]],
    "uint8_and_int8": lambda: [np.uint8(1), np.int8(1)],
    "int32_and_int": lambda: [np.int32(1), 2],
    "float32_and_numpy_bool": lambda: [np.float32(1), np.bool_(True)],
    "float_and_numpy_bool": lambda: [1.0, np.bool_(True)],
    "mean_of_float32_array": lambda: np.arange(4, dtype=np.float32).mean(),
}


@pytest.mark.parametrize("name", sorted(NUMPY_SCALAR_DATA))
def test_numpy_scalars_keep_their_dtype(torch, name):
    data = NUMPY_SCALAR_DATA[name]
    got, want = sg.tensor(data()), torch.tensor(data())
    assert got.dtype.name == str(want.dtype).removeprefix("torch.")
    assert got.tolist() == want.tolist()
    assert sg.as_tensor(data()).dtype.name == str(torch.as_tensor(data()).dtype)[6:]


@pytest.mark.parametrize("fill", [np.float32(2), np.int32(2)])
def test_full_with_numpy_scalar_takes_the_python_numbers_dtype(torch, fill):
    got, want = sg.full((2,), fill), torch.full((2,), fill)
    assert got.dtype.name == str(want.dtype).removeprefix("torch.")


MIXED_DTYPES = {   # float32 data into a float64 model: PyTorch's words for it
    "matmul": lambda m, F: m.ones(2, 2, dtype=m.float32) @ m.ones(2, 2),
    "matmul_long": lambda m, F: m.ones(2, 2, dtype=m.float32) @ m.ones(2, 2, dtype=m.int64),
    "dot": lambda m, F: m.ones(2, dtype=m.float32) @ m.ones(2),
    "linear": lambda m, F: F.linear(m.ones(1, 2, dtype=m.float32), m.ones(3, 2)),
    "conv_bias": lambda m, F: F.conv2d(m.ones(1, 1, 4, 4, dtype=m.float32), m.ones(1, 1, 2, 2),
                                       m.ones(1)),
    "conv_no_bias": lambda m, F: F.conv2d(m.ones(1, 1, 4, 4, dtype=m.float32),
                                          m.ones(1, 1, 2, 2)),
    "conv_bias_only": lambda m, F: F.conv1d(m.ones(1, 1, 4), m.ones(1, 1, 2),
                                            m.ones(1, dtype=m.float32)),
}


@pytest.mark.parametrize("name", sorted(MIXED_DTYPES))
def test_mixed_float_dtypes_fail_with_pytorchs_message(torch, name):
    import torch.nn.functional as TF

    from symgrad.nn import functional as F

    messages = []
    for m, f in ((torch, TF), (sg, F)):
        with pytest.raises(RuntimeError) as info:
            MIXED_DTYPES[name](m, f)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_step_lr_state_dict_prints_as_pytorchs(torch):
    """Tutorials print scheduler.state_dict(); its keys and values follow PyTorch's order."""
    states = []
    for m in (sg, torch):
        opt = m.optim.SGD([m.nn.Parameter(m.ones(2))], lr=0.1)
        sched = m.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        opt.step()
        sched.step()
        states.append(sched.state_dict())
    assert list(states[0].items()) == list(states[1].items())


ZERO_DIM_SCATTER = {   # the Transforms tutorial's one-hot target_transform, and its relatives
    "one_hot_scatter_": lambda m: m.zeros(10).scatter_(0, m.tensor(3), value=1),
    "scatter_value": lambda m: m.zeros(10).scatter(0, m.tensor(3), 5.0),
    "scatter_0d_src": lambda m: m.zeros(10).scatter(0, m.tensor(3), m.tensor(7.0)),
    "scatter_1d_src": lambda m: m.zeros(4).scatter(0, m.tensor(1), m.tensor([7.0, 8.0])),
    "scatter_add": lambda m: m.zeros(4).scatter_add(0, m.tensor(2), m.tensor(7.0)),
    "scatter_into_0d": lambda m: m.tensor(2.0).scatter(0, m.tensor([0]), m.tensor([9.0])),
    "scatter_all_0d": lambda m: m.tensor(2.0).scatter(0, m.tensor(0), m.tensor(9.0)),
    "gather": lambda m: m.arange(5.0).gather(0, m.tensor(3)),
    "scatter_reduce": lambda m: m.zeros(4).scatter_reduce(0, m.tensor(1), m.tensor(3.0),
                                                          reduce="sum"),
    "still_refused_on_2d": lambda m: m.zeros(2, 3).scatter(1, m.tensor(1), 1.0),
}


@pytest.mark.parametrize("name", sorted(ZERO_DIM_SCATTER))
def test_zero_dim_index_counts_as_one_entry(torch, name):
    def outcome(m):
        try:
            r = ZERO_DIM_SCATTER[name](m)
        except RuntimeError as e:
            return str(e)
        return tuple(r.shape), r.tolist()

    assert outcome(sg) == outcome(torch)


def test_zero_dim_gather_and_scatter_gradients(torch):
    grads = []
    for m in (sg, torch):
        x = m.arange(5.0).requires_grad_()
        v = m.tensor(2.0, requires_grad=True)
        y = m.zeros(5).scatter(0, m.tensor(1), v * x.gather(0, m.tensor(3)))
        (y * m.arange(5.0)).sum().backward()
        grads.append((x.grad.tolist(), v.grad.item()))
    assert grads[0] == grads[1]


BATCHES = {   # what a DataLoader yields for the sample types the data tutorials use
    "python_floats": lambda: [1.5, 2.5],
    "python_ints": lambda: [1, 2],
    "bools": lambda: [True, False],
    "numpy_float32_scalars": lambda: [np.float32(1.5), np.float32(2.5)],
    "numpy_arrays": lambda: [np.arange(3), np.arange(3)],
    "tuples_of_numbers": lambda: [(1, 1.5), (2, 2.5)],
    "dicts": lambda: [{"y": 1, "w": 0.5, "name": "a"}, {"y": 2, "w": 1.5, "name": "b"}],
}


def _described(b):
    if isinstance(b, (list, tuple)):
        return type(b).__name__, [_described(e) for e in b]
    if isinstance(b, dict):
        return {k: _described(v) for k, v in b.items()}
    if hasattr(b, "dtype"):
        return str(b.dtype).split(".")[-1], b.tolist()
    return b


@pytest.mark.parametrize("batch_size", [2, None])
@pytest.mark.parametrize("name", sorted(BATCHES))
def test_dataloader_batches_as_pytorchs(torch, name, batch_size):
    from torch.utils.data import DataLoader as TorchLoader

    from symgrad.utils.data import DataLoader

    got = list(DataLoader(BATCHES[name](), batch_size=batch_size))
    want = list(TorchLoader(BATCHES[name](), batch_size=batch_size))
    assert _described(got) == _described(want)


def test_unbatched_tensor_dataset_yields_lists(torch):
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchDS

    from symgrad.utils.data import DataLoader, TensorDataset

    got = next(iter(DataLoader(TensorDataset(sg.arange(4.0)), batch_size=None)))
    want = next(iter(TorchLoader(TorchDS(torch.arange(4.0)), batch_size=None)))
    assert _described(got) == _described(want)


@pytest.mark.parametrize("data", [[1.0, 2.0], []])
def test_truth_value_of_many_or_no_values_is_refused_in_pytorchs_words(torch, data):
    messages = []
    for m in (sg, torch):
        with pytest.raises(RuntimeError) as info:
            bool(m.tensor(data))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def _lenet(m):
    """The "Neural Networks" tutorial: LeNet, one backward with a given gradient, the MSE
    loss's grad_fn chain, conv1.bias.grad before/after, and an SGD step."""
    nn, F = m.nn, m.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = m.flatten(x, 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    rng = np.random.default_rng(0)
    net = Net()
    net.load_state_dict({k: m.tensor(rng.uniform(-0.2, 0.2, tuple(v.shape)))
                         for k, v in net.state_dict().items()})
    input = m.tensor(rng.standard_normal((1, 1, 32, 32)))
    out = net(input)
    net.zero_grad()
    out.backward(m.tensor(rng.standard_normal((1, 10))))
    first = net.conv1.bias.grad.tolist()
    target = m.tensor(rng.standard_normal(10)).view(1, -1)
    loss = nn.MSELoss()(net(input), target)
    chain, g = [], loss.grad_fn
    while g is not None:
        chain.append(g.name())
        g = next((f for f, _ in g.next_functions if f is not None), None)
    net.zero_grad()
    before = net.conv1.bias.grad
    loss.backward()
    after = net.conv1.bias.grad.tolist()
    opt = m.optim.SGD(net.parameters(), lr=0.01)
    opt.step()
    return (out.tolist(), first, loss.item(), chain, before, after,
            net(input).tolist(), len(list(net.parameters())), tuple(net.conv1.weight.size()))


def test_lenet_tutorial(torch):
    got, want = _lenet(sg), _lenet(torch)
    assert got[3] == want[3] == ["MseLossBackward0", "AddmmBackward0",
                                 "torch::autograd::AccumulateGrad"]
    assert got[4] is None and want[4] is None
    assert got[7:] == want[7:]
    for a, b in zip(got[:3] + got[5:7], want[:3] + want[5:7]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def _jacobian_products(m):
    inp = m.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    seen = []
    out.backward(m.ones_like(out), retain_graph=True)
    seen.append(inp.grad.tolist())
    out.backward(m.ones_like(out), retain_graph=True)
    seen.append(inp.grad.tolist())
    inp.grad.zero_()
    out.backward(m.ones_like(out), retain_graph=True)
    seen.append(inp.grad.tolist())
    return seen, out.grad_fn.name(), tuple(out.shape)


def test_learn_the_basics_jacobian_products_accumulate(torch):
    assert _jacobian_products(sg) == _jacobian_products(torch)


def _gentle_intro(m):
    a = m.tensor([2., 3.], requires_grad=True)
    b = m.tensor([6., 4.], requires_grad=True)
    q = 3 * a ** 3 - b ** 2
    q.backward(gradient=m.tensor([1., 1.]))
    model = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.ReLU())
    model.fc = m.nn.Linear(4, 2)
    for p in model[0].parameters():
        p.requires_grad = False
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    return ((9 * a ** 2 == a.grad).tolist(), (-2 * b == b.grad).tolist(), q.grad_fn.name(),
            [f.name() for f, _ in q.grad_fn.next_functions], trainable)


def test_gentle_introduction_to_autograd(torch):
    assert _gentle_intro(sg) == _gentle_intro(torch)


def test_custom_function_node_prints_as_pytorchs(torch):
    """Extending-autograd docs print ``out.grad_fn`` of a custom Function."""
    import re

    shown = []
    for m in (sg, torch):
        node = _legendre(m)[4]
        shown.append(re.sub(r"0x[0-9a-f]+", "0x", str(node)).replace("symgrad.", "torch."))
    assert shown[0] == shown[1] == ("<torch.autograd.function.LegendrePolynomial3Backward "
                                    "object at 0x>")


def test_gradient_of_wrong_shape_is_refused_naming_sizes(torch):
    messages = []
    for m in (sg, torch):
        with pytest.raises(RuntimeError) as info:
            m.ones(2, requires_grad=True).sum().backward(m.ones(2))
        messages.append(str(info.value).replace("symgrad.", "torch."))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_optimizer_state_prints_in_pytorchs_order(torch, name):
    """A printed optimizer.state_dict() lists each parameter's state as PyTorch's does."""
    states = []
    for m in (sg, torch):
        w = m.nn.Parameter(m.tensor([0.5, -0.5]))
        opt = getattr(m.optim, name)([w], lr=0.01, **({"momentum": 0.9} if name == "SGD" else {}))
        (w * w).sum().backward()
        opt.step()
        states.append([(k, np.asarray(v.tolist() if hasattr(v, "tolist") else v).tolist())
                       for k, v in opt.state_dict()["state"][0].items()])
    assert [k for k, _ in states[0]] == [k for k, _ in states[1]]
    for (_, a), (_, b) in zip(*states):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "nearest-exact"])
def test_float32_upsampling_stays_float32(torch, mode):
    x = np.random.default_rng(0).standard_normal((1, 2, 3, 4)).astype(np.float32)
    a, b = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya = sg.nn.functional.interpolate(a, scale_factor=2, mode=mode)
    yb = torch.nn.functional.interpolate(b, scale_factor=2, mode=mode)
    ya.sum().backward()
    yb.sum().backward()
    assert ya.dtype.name == a.grad.dtype.name == "float32" == str(yb.dtype)[6:]
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert sg.nn.Upsample(scale_factor=2)(sg.ones(1, 1, 2, dtype=sg.float32)).dtype == sg.float32


NUMPY_SCALAR_OPERANDS = {   # x * np.sqrt(2), x / np.float32(255), idx + np.int64(1), ...
    "float32_plus_float64": ("float32", lambda x: x + np.float64(1.5)),
    "float64_scalar_times_float32": ("float32", lambda x: np.sqrt(2.0) * x),
    "float32_over_int64": ("float32", lambda x: x / np.int64(3)),
    "int32_plus_int64": ("int32", lambda x: x + np.int64(3)),
    "int32_times_float32": ("int32", lambda x: x * np.float32(0.5)),
    "int8_minus_int64": ("int8", lambda x: x - np.int64(1)),
    "uint8_compare_int64": ("uint8", lambda x: x > np.int64(0)),
    "float32_clamp": ("float32", lambda x: x.clamp(max=np.float64(0.5))),
    "float32_where": ("float32", lambda x: (x > 0).float().where(x > 0, np.float64(2.0))),
    "int64_pow_negative": ("int64", lambda x: x ** np.int8(-2)),
}


@pytest.mark.parametrize("name", sorted(NUMPY_SCALAR_OPERANDS))
def test_numpy_scalar_operands_act_as_python_numbers(torch, name):
    dtype, f = NUMPY_SCALAR_OPERANDS[name]
    out = []
    for m in (sg, torch):
        x = m.tensor([1, 2, 3], dtype=getattr(m, dtype))
        try:
            y = f(x)
        except RuntimeError as e:
            out.append(str(e))
        else:
            out.append((str(y.dtype).split(".")[-1], y.tolist()))
    assert out[0] == out[1]


def test_distribution_number_parameters_follow_the_tensor_dtype(torch):
    got = sg.distributions.Normal(sg.zeros(2, dtype=sg.float32), 1.0)
    want = torch.distributions.Normal(torch.zeros(2, dtype=torch.float32), 1.0)
    x = np.array([0.5, -1.0], dtype=np.float32)
    a, b = got.log_prob(sg.tensor(x)), want.log_prob(torch.tensor(x))
    assert a.dtype.name == str(b.dtype)[6:] == "float32"
    assert got.scale.dtype.name == "float32"
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
