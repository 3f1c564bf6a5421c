"""Recurrent layers (RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU) as PyTorch's: outputs,
final states and gradients w.r.t. inputs, initial states and every parameter with the same
weights; parameter names, shapes and init; printed forms; misuse errors; a training loop;
and the SymPy cross-check of an unrolled LSTM and GRU."""

import numpy as np
import pytest

import symgrad as sg


def _copy_weights(mod_sg, mod_t, torch):
    mod_t.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in
                           mod_sg.state_dict().items()})


def _leaves(out):
    """The tensors of a layer's result: ``h``, ``(h, c)``, ``(out, h)``, ``(out, (h, c))``."""
    if isinstance(out, tuple):
        return [t for o in out for t in _leaves(o)]
    return [out]


def _run(lib, mod, x, states, weights):
    """Call ``mod``, contract every result tensor with fixed weights and differentiate;
    returns the results and the gradients of the input, the states and the parameters."""
    xt = lib.tensor(x, requires_grad=True)
    hs = [lib.tensor(s, requires_grad=True) for s in states or ()]
    hx = () if states is None else (hs[0] if len(hs) == 1 else tuple(hs),)
    outs = _leaves(mod(xt, *hx))
    sum(((o * lib.tensor(w)).sum() for o, w in zip(outs, weights))).backward()
    grads = [xt.grad] + [h.grad for h in hs] + [p.grad for _, p in mod.named_parameters()]
    return [t.detach().numpy() for t in outs], [g.numpy() for g in grads]


def _assert_as_torch(torch, mod_sg, mod_t, x, states, seed):
    _copy_weights(mod_sg, mod_t, torch)
    rng = np.random.default_rng(seed)
    hx = () if states is None else (
        torch.tensor(states[0]) if len(states) == 1 else tuple(map(torch.tensor, states)),)
    weights = [rng.standard_normal(tuple(o.shape))
               for o in _leaves(mod_t(torch.tensor(x), *hx))]
    got_out, got_grad = _run(sg, mod_sg, x, states, weights)
    want_out, want_grad = _run(torch, mod_t, x, states, weights)
    assert len(got_out) == len(want_out) and len(got_grad) == len(want_grad)
    for a, b in zip(got_out + got_grad, want_out + want_grad):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)


# ====================================================================== layers
# (class, positional args, keyword args, input shape, with initial states)
LAYERS = [
    ("RNN", (3, 4), {}, (5, 2, 3), False),
    ("RNN", (3, 4, 2), {"nonlinearity": "relu"}, (4, 3, 3), True),
    ("RNN", (3, 4, 2, "tanh", False, True), {"bidirectional": True}, (2, 5, 3), True),
    ("RNN", (2, 3), {"nonlinearity": "relu", "bidirectional": True}, (4, 2), True),
    ("LSTM", (3, 4), {}, (5, 2, 3), True),
    ("LSTM", (3, 4, 2), {"batch_first": True}, (2, 4, 3), False),
    ("LSTM", (3, 4, 2), {"bidirectional": True, "bias": False}, (3, 2, 3), True),
    ("LSTM", (3, 5), {"proj_size": 2, "num_layers": 2, "bidirectional": True}, (3, 2, 3), True),
    ("LSTM", (3, 5), {"proj_size": 3, "batch_first": True}, (4, 3), False),
    ("LSTM", (2, 3), {"num_layers": 3}, (4, 2), True),
    ("GRU", (3, 4), {}, (5, 2, 3), True),
    ("GRU", (3, 4, 2), {"batch_first": True, "bidirectional": True}, (2, 3, 3), True),
    ("GRU", (3, 4, 1, False), {}, (4, 2, 3), False),
    ("GRU", (3, 4, 2), {"batch_first": True}, (4, 3), True),
]


def _initial_states(mod, x_shape, rng):
    """Random initial states of PyTorch's shapes for ``mod`` and an input of ``x_shape``."""
    lead = (mod.num_layers * (2 if mod.bidirectional else 1),)
    if len(x_shape) == 3:
        lead += (x_shape[0] if mod.batch_first else x_shape[1],)
    sizes = [mod.proj_size or mod.hidden_size] + [mod.hidden_size] * (mod.mode == "LSTM")
    return [rng.standard_normal(lead + (s,)) for s in sizes]


@pytest.mark.parametrize("name,args,kwargs,shape,with_h0", LAYERS,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(LAYERS)])
def test_layers_as_pytorch(torch, name, args, kwargs, shape, with_h0):
    sg.manual_seed(len(args) + len(shape))
    mod_sg = getattr(sg.nn, name)(*args, **kwargs)
    mod_t = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(mod_sg) == repr(mod_t)
    assert [(n, tuple(p.shape)) for n, p in mod_sg.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in mod_t.named_parameters()]
    rng = np.random.default_rng(len(shape))
    states = _initial_states(mod_sg, shape, rng) if with_h0 else None
    _assert_as_torch(torch, mod_sg, mod_t, rng.standard_normal(shape), states, 1)


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu", "bias": False}),
         ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}),
         ("GRUCell", {"bias": False})]


@pytest.mark.parametrize("name,kwargs", CELLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CELLS)])
def test_cells_as_pytorch(torch, name, kwargs):
    sg.manual_seed(3)
    mod_sg = getattr(sg.nn, name)(3, 4, **kwargs)
    mod_t = getattr(torch.nn, name)(3, 4, **kwargs)
    assert repr(mod_sg) == repr(mod_t)
    rng = np.random.default_rng(4)
    n_states = 2 if name == "LSTMCell" else 1
    for lead in [(2,), ()]:                       # batched and unbatched
        for given in (True, False):
            states = [rng.standard_normal(lead + (4,)) for _ in range(n_states)]
            _assert_as_torch(torch, mod_sg, mod_t, rng.standard_normal(lead + (3,)),
                             states if given else None, 2)


def test_cell_loop_equals_the_layer():
    """An LSTMCell stepped by hand over a sequence gives LSTM's output (same weights)."""
    sg.manual_seed(0)
    layer, cell = sg.nn.LSTM(3, 4), sg.nn.LSTMCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = sg.randn(5, 2, 3)
    out, (h_n, c_n) = layer(x)
    h = c = sg.zeros(2, 4)
    for t in range(5):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(h.detach().numpy(), out[t].detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(c.detach().numpy(), c_n[0].detach().numpy(), rtol=1e-14)


# ====================================================================== init and printing
class _Names(dict):
    """Names looked up in a library's ``nn`` (symgrad's are loaded on first use)."""

    def __init__(self, nn):
        super().__init__()
        self.nn = nn

    def __missing__(self, name):
        return getattr(self.nn, name)


def _make(lib, source):
    """The module ``source`` (e.g. "LSTM(2, 3)") built from ``lib.nn``."""
    return eval(source, {}, _Names(lib.nn))


def test_default_init_is_uniform_in_the_inverse_sqrt_of_hidden():
    sg.manual_seed(7)
    mod = sg.nn.GRU(6, 16, num_layers=2)
    values = np.concatenate([p.detach().numpy().ravel() for p in mod.parameters()])
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24
    assert abs(values.mean()) < 0.02           # 2,000+ draws centred at 0
    sg.manual_seed(7)
    again = sg.nn.GRU(6, 16, num_layers=2)
    assert all(np.array_equal(p.detach().numpy(), q.detach().numpy())
               for p, q in zip(mod.parameters(), again.parameters()))
    assert [len(w) for w in mod.all_weights] == [4, 4] and mod.all_weights[1][0] is \
        mod.weight_ih_l1


@pytest.mark.parametrize("make", [
    "LSTM(10, 20, num_layers=2, batch_first=True)", "RNN(3, 4, 2, 'relu', False)",
    "GRU(3, 4, dropout=0.5, num_layers=2, bidirectional=True)", "LSTM(5, 6, proj_size=2)",
    "RNNCell(3, 4, nonlinearity='relu')", "LSTMCell(3, 4, bias=False)", "GRUCell(3, 4)",
    "Sequential(LSTM(2, 3), Linear(3, 1))"])
def test_repr_as_pytorch(torch, make):
    assert repr(_make(sg, make)) == repr(_make(torch, make))


# ====================================================================== dropout
def test_dropout_between_layers_in_training_only(torch):
    sg.manual_seed(1)
    x = sg.randn(4, 2, 3)
    mod = sg.nn.GRU(3, 5, num_layers=2, dropout=0.5)
    sg.manual_seed(9)
    a = mod(x)[0].detach().numpy()
    sg.manual_seed(9)
    assert np.array_equal(mod(x)[0].detach().numpy(), a)        # drawn from symgrad's RNG
    mod.eval()
    b = mod(x)[0].detach().numpy()
    assert not np.allclose(a, b)
    mod_t = torch.nn.GRU(3, 5, num_layers=2, dropout=0.5).eval()
    _copy_weights(mod, mod_t, torch)
    np.testing.assert_allclose(b, mod_t(torch.tensor(x.numpy()))[0].detach().numpy(),
                               rtol=1e-12)
    # p = 1 zeroes the second layer's input: deterministic, so comparable with PyTorch
    for m in (mod, mod_t):
        m.dropout = 1.0
        m.train()
    _assert_as_torch(torch, mod, mod_t, x.numpy(), None, 3)


def test_dropout_arguments(torch):
    for lib in (sg, torch):
        with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater "
                                             "than 1, but got dropout=0.2 and num_layers=1"):
            lib.nn.LSTM(2, 3, dropout=0.2)


# ====================================================================== misuse
def _error(fn):
    try:
        fn()
    except Exception as e:      # noqa: BLE001 - the type is what is compared
        return type(e), str(e).replace("symgrad.", "torch.")
    return None


CONSTRUCTION_ERRORS = [
    ("RNN", (3, 4), {"nonlinearity": "sigmoid"}), ("RNN", (3, 4), {"proj_size": 2}),
    ("GRU", (3, 4), {"proj_size": 2}), ("LSTM", (3, 4), {"proj_size": 4}),
    ("LSTM", (3, 4), {"proj_size": -1}), ("LSTM", (3, 4), {"dropout": 1.5}),
    ("LSTM", (3, 4), {"dropout": True}), ("GRU", (3, 0), {}), ("GRU", (0, 3), {}),
    ("GRU", (3, 4), {"num_layers": 0}), ("RNN", (3, 4.0), {}), ("RNN", (3, 4), {"bias": 1}),
    ("LSTM", (3, 4), {"batch_first": None}),
]


@pytest.mark.parametrize("name,args,kwargs", CONSTRUCTION_ERRORS)
def test_construction_errors_as_pytorch(torch, name, args, kwargs):
    got = _error(lambda: getattr(sg.nn, name)(*args, **kwargs))
    assert got is not None and got == _error(lambda: getattr(torch.nn, name)(*args, **kwargs))


# (module, input shape, initial state shapes or None)
CALL_ERRORS = [
    ("RNN(3, 4)", (5, 2, 2), None),                       # input_size
    ("RNN(3, 4)", (5, 2, 3), [(1, 3, 4)]),                # batch of h0
    ("RNN(3, 4, 2)", (5, 2, 3), [(1, 2, 4)]),             # layers of h0
    ("RNN(3, 4, bidirectional=True)", (5, 3), [(1, 4)]),  # directions, unbatched
    ("RNN(3, 4)", (5, 2, 3), [(2, 4)]),                   # 2-D h0 with batched input
    ("RNN(3, 4)", (5, 3), [(1, 2, 4)]),                   # 3-D h0 with unbatched input
    ("GRU(3, 4)", (0, 2, 3), None),                       # empty sequence
    ("RNN(3, 4)", (3,), None), ("GRU(3, 4)", (1, 5, 2, 3), None),
    ("LSTM(3, 4)", (1, 5, 2, 3), None),
    ("GRU(3, 4, batch_first=True)", (2, 5, 3), [(1, 5, 4)]),
    ("LSTM(3, 4)", (5, 2, 3), [(1, 2, 4), (1, 2, 5)]),    # c0 size
    ("LSTM(3, 4, proj_size=2)", (5, 2, 3), [(1, 2, 4), (1, 2, 4)]),   # h0 is projected
    ("LSTM(3, 4)", (5, 3), [(1, 4), (1, 1, 4)]),
    ("LSTM(3, 4)", (5, 2, 3), [(1, 2, 4), (2, 4)]),
    ("RNNCell(3, 4)", (2, 5), None), ("RNNCell(3, 4)", (2, 3), [(3, 4)]),
    ("GRUCell(3, 4)", (2, 3), [(2, 5)]), ("GRUCell(3, 4)", (1, 2, 3), None),
    ("GRUCell(3, 4)", (2, 3), [(1, 2, 4)]),
    ("LSTMCell(3, 4)", (2, 3), [(2, 4), (2, 5)]), ("LSTMCell(3, 4)", (2, 3), [(2, 4), (1, 2, 4)]),
]


@pytest.mark.parametrize("make,shape,states", CALL_ERRORS)
def test_call_errors_as_pytorch(torch, make, shape, states):
    def call(lib):
        mod = _make(lib, make)
        hs = [lib.zeros(s) for s in states or ()]
        return lambda: mod(lib.zeros(shape), *([] if states is None else
                                               [hs[0] if len(hs) == 1 else tuple(hs)]))

    got = _error(call(sg))
    assert got is not None and got == _error(call(torch))


def test_dtype_mismatch_as_pytorch(torch):
    got = _error(lambda: sg.nn.GRU(3, 4)(sg.zeros(2, 1, 3, dtype=sg.float32)))
    want = _error(lambda: torch.nn.GRU(3, 4)(torch.zeros(2, 1, 3, dtype=torch.float32)))
    assert got is not None and got == want


# ====================================================================== training
def _classifier_losses(lib, cls, state, data, steps):
    rnn, head = getattr(lib.nn, cls)(3, 6, batch_first=True), lib.nn.Linear(6, 2)
    model = lib.nn.ModuleDict({"rnn": rnn, "head": head})
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    opt = lib.optim.Adam(model.parameters(), lr=0.05)
    x, y = lib.tensor(data[0]), lib.tensor(data[1])
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        h_n = rnn(x)[1]
        logits = head((h_n[0] if cls == "LSTM" else h_n)[-1])
        loss = lib.nn.functional.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_sequence_classification_training_as_pytorch(torch, cls):
    """Is the sum of a sequence positive?  A few Adam steps give PyTorch's losses."""
    sg.manual_seed(5)
    model = sg.nn.ModuleDict({"rnn": getattr(sg.nn, cls)(3, 6, batch_first=True),
                              "head": sg.nn.Linear(6, 2)})
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 5, 3))
    data = (x, (x.sum((1, 2)) > 0).astype(np.int64))
    got = _classifier_losses(sg, cls, state, data, 6)
    np.testing.assert_allclose(got, _classifier_losses(torch, cls, state, data, 6),
                               rtol=1e-10)
    assert got[-1] < got[0]


# ====================================================================== the verifier
@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_verify_check_agrees_on_an_unrolled_layer(cls):
    sg.manual_seed(2)
    model = getattr(sg.nn, cls)(2, 2)
    x = sg.randn(3, 1, 2)

    def loss(m):
        out, h_n = m(x)
        return out.pow(2).sum() + (h_n[0] if cls == "LSTM" else h_n).sum()

    report = sg.verify.check(lambda *ps: loss(model), *model.parameters())
    assert report.ok and all(r.verdict == "agree" for r in report.rows)
