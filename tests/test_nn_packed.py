"""PackedSequence: pack_padded_sequence / pad_packed_sequence / pack_sequence, and the
recurrent layers run on packed input, against PyTorch (values, lengths, gradients)."""

import numpy as np
import pytest

import symgrad as sg

X = np.random.default_rng(0).standard_normal((5, 3, 2))
LENGTHS = [3, 5, 2]


def _pack_round_trip(m, batch_first, enforce_sorted, lengths):
    x = m.tensor(X.transpose(1, 0, 2) if batch_first else X, requires_grad=True)
    R = m.nn.utils.rnn
    try:
        p = R.pack_padded_sequence(x, m.tensor(lengths), batch_first=batch_first,
                                   enforce_sorted=enforce_sorted)
    except RuntimeError as e:
        return type(e).__name__
    o, L = R.pad_packed_sequence(p, batch_first=batch_first, padding_value=-1.0,
                                 total_length=6)
    (o * m.arange(o.numel(), dtype=m.float64).reshape(o.shape)).sum().backward()
    return (p.data.detach().numpy().tolist(), p.batch_sizes.tolist(), o.detach().numpy().tolist(),
            L.tolist(), x.grad.numpy().tolist())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted,lengths", [(False, LENGTHS), (True, [5, 3, 2]),
                                                    (True, LENGTHS)])
def test_pack_and_pad_as_pytorch(torch64, batch_first, enforce_sorted, lengths):
    assert (_pack_round_trip(sg, batch_first, enforce_sorted, lengths)
            == _pack_round_trip(torch64, batch_first, enforce_sorted, lengths))


def _run(m, mode, bidirectional, with_hx, ref=None):
    m.manual_seed(0)
    net = getattr(m.nn, mode)(2, 4, num_layers=2, bidirectional=bidirectional).double()
    if ref is not None:
        net.load_state_dict({k: m.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    x = m.tensor(X, requires_grad=True)
    p = m.nn.utils.rnn.pack_padded_sequence(x, m.tensor(LENGTHS), enforce_sorted=False)
    hx = None
    if with_hx:
        h0 = m.tensor(np.linspace(-1, 1, 2 * (1 + bidirectional) * 3 * 4).reshape(
            2 * (1 + bidirectional), 3, 4), requires_grad=True)
        hx = (h0, h0 * 0.5) if mode == "LSTM" else h0
    out, h = net(p, hx)
    h = h[0] if mode == "LSTM" else h
    o, L = m.nn.utils.rnn.pad_packed_sequence(out)
    ((o ** 2).sum() + (h * 3).sum()).backward()
    grads = [x.grad.numpy()] + ([h0.grad.numpy()] if with_hx else [])
    return net, (o.detach().numpy(), h.detach().numpy(), L.tolist(), grads)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional,with_hx", [(False, True), (True, False)])
def test_recurrent_layers_on_packed_input_as_pytorch(torch64, mode, bidirectional, with_hx):
    net, got = _run(sg, mode, bidirectional, with_hx)
    _, want = _run(torch64, mode, bidirectional, with_hx, ref=net)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-11, atol=1e-13)
    assert got[2] == want[2]
    for g, w in zip(got[3], want[3]):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_pack_sequence_and_a_packed_lstm_is_verified_exactly():
    seqs = [sg.tensor([[0.5], [1.0], [-1.0]]), sg.tensor([[2.0]])]
    p = sg.nn.utils.rnn.pack_sequence(seqs)
    assert p.batch_sizes.tolist() == [2, 1, 1] and p.data.flatten().tolist() == [0.5, 2.0, 1.0,
                                                                                  -1.0]
    sg.manual_seed(1)
    lstm = sg.nn.LSTM(1, 2).double()
    report = sg.verify.check(lambda *ps: lstm(p)[1][0].sum(), *lstm.parameters())
    assert report.ok, report.table()
