"""MultiheadAttention and the Transformer encoder against PyTorch (weights copied across):
outputs, attention weights, masks, gradients of inputs and parameters, printed forms."""

import numpy as np
import pytest

import symgrad as sg


def _pair(torch, make):
    a, b = make(sg), make(torch)
    b.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in a.state_dict().items()})
    return a, b


def _grads(mod):
    return {k: p.grad.numpy().copy() for k, p in mod.named_parameters() if p.grad is not None}


MHA_CASES = [
    ({"batch_first": False}, (5, 2, 8), {}),
    ({"batch_first": True}, (2, 5, 8), {"average_attn_weights": False}),
    ({"bias": False}, (4, 8), {}),                                     # unbatched
    ({}, (5, 2, 8), {"attn_mask": "causal_bool"}),
    ({}, (5, 2, 8), {"attn_mask": "float", "key_padding_mask": "pad"}),
    ({}, (5, 2, 8), {"need_weights": False, "key_padding_mask": "pad"}),
]


def _masks(m, kw, L, N):
    kw = dict(kw)
    if kw.get("attn_mask") == "causal_bool":
        kw["attn_mask"] = m.tensor(np.triu(np.ones((L, L), dtype=bool), 1))
    elif kw.get("attn_mask") == "float":
        kw["attn_mask"] = m.tensor(np.random.default_rng(2).standard_normal((L, L)))
    if kw.get("key_padding_mask") == "pad":
        pad = np.zeros((N, L), dtype=bool)
        pad[0, -2:] = True
        kw["key_padding_mask"] = m.tensor(pad)
    return kw


@pytest.mark.parametrize("ctor,shape,call", MHA_CASES)
def test_multihead_attention_as_pytorch(torch64, ctor, shape, call):
    torch = torch64
    a, b = _pair(torch, lambda m: m.nn.MultiheadAttention(8, 2, **ctor))
    assert repr(a) == repr(b)
    x = np.random.default_rng(1).standard_normal(shape)
    L = shape[1] if ctor.get("batch_first") else shape[0]
    N = 1 if len(shape) == 2 else (shape[0] if ctor.get("batch_first") else shape[1])
    res = []
    for m, mod in ((sg, a), (torch, b)):
        q = m.tensor(x, requires_grad=True)
        out, w = mod(q, q * 0.5, q, **_masks(m, call, L, N))
        (out * m.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))).sum().backward()
        res.append((out.detach().numpy(), None if w is None else w.detach().numpy(),
                    q.grad.numpy(), _grads(mod)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-11, atol=1e-13)
    if res[1][1] is None:
        assert res[0][1] is None
    else:
        np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-10, atol=1e-12)
    for k in res[1][3]:
        np.testing.assert_allclose(res[0][3][k], res[1][3][k], rtol=1e-10, atol=1e-12,
                                   err_msg=k)


@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_transformer_encoder_as_pytorch(torch64, norm_first, activation):
    torch = torch64

    def make(m):
        layer = m.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                             activation=activation, batch_first=True,
                                             norm_first=norm_first)
        return m.nn.TransformerEncoder(layer, 2, norm=m.nn.LayerNorm(8),
                                       enable_nested_tensor=False)

    a, b = _pair(torch, make)
    assert repr(a) == repr(b)
    x = np.random.default_rng(3).standard_normal((2, 5, 8))
    res = []
    for m, mod in ((sg, a), (torch, b)):
        mod.eval()
        q = m.tensor(x, requires_grad=True)
        pad = np.zeros((2, 5), dtype=bool)
        pad[1, -1] = True
        out = mod(q, src_key_padding_mask=m.tensor(pad))
        (out ** 2).sum().backward()
        res.append((out.detach().numpy(), q.grad.numpy(), _grads(mod)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-9, atol=1e-11)
    for k in res[1][2]:
        np.testing.assert_allclose(res[0][2][k], res[1][2][k], rtol=1e-9, atol=1e-11, err_msg=k)


def test_attention_is_verified_exactly():
    sg.manual_seed(0)
    mha = sg.nn.MultiheadAttention(4, 2).double()
    x = sg.randn(3, 1, 4)
    report = sg.verify.check(lambda *ps: mha(x, x, x)[0].sum(), *mha.parameters())
    assert report.ok, report.table()


MHA_OPTION_CASES = [
    {"kdim": 3, "vdim": 5},
    {"add_bias_kv": True},
    {"add_zero_attn": True},
    {"add_bias_kv": True, "add_zero_attn": True, "kdim": 3, "vdim": 5, "batch_first": True},
]


@pytest.mark.parametrize("ctor", MHA_OPTION_CASES)
def test_attention_options_as_pytorch(torch64, ctor):
    """Separate key/value sizes, a learned bias key/value and zero attention: parameters,
    state_dict order, outputs, weights and every gradient as PyTorch's, with both masks."""
    torch = torch64
    a, b = _pair(torch, lambda m: m.nn.MultiheadAttention(8, 2, **ctor))
    assert list(a.state_dict()) == list(b.state_dict())
    assert repr(a) == repr(b)
    rng = np.random.default_rng(1)
    bf = ctor.get("batch_first", False)
    shapes = [(4, 8), (6, ctor.get("kdim", 8)), (6, ctor.get("vdim", 8))]
    xs = [rng.standard_normal((2, n, d) if bf else (n, 2, d)) for n, d in shapes]
    pad = np.zeros((2, 6), dtype=bool)
    pad[0, -2:] = True
    causal = np.triu(np.ones((4, 6), dtype=bool), 3)
    res = []
    for m, mod in ((sg, a), (torch, b)):
        q, k, v = (m.tensor(x, requires_grad=True) for x in xs)
        out, w = mod(q, k, v, key_padding_mask=m.tensor(pad), attn_mask=m.tensor(causal))
        (out * m.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))).sum().backward()
        res.append([out.detach().numpy(), w.detach().numpy(), q.grad.numpy(), k.grad.numpy(),
                    v.grad.numpy(), _grads(mod)])
    for x, y in zip(res[0][:5], res[1][:5]):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)
    assert set(res[0][5]) == set(res[1][5])
    for k in res[1][5]:
        np.testing.assert_allclose(res[0][5][k], res[1][5][k], rtol=1e-10, atol=1e-12,
                                   err_msg=k)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")   # (PyTorch's own)
@pytest.mark.parametrize("batch_first,norm_first", [(False, False), (True, True)])
def test_transformer_as_pytorch(torch64, batch_first, norm_first):
    """nn.Transformer (encoder and decoder stacks) with a causal target mask and padding
    masks: output and the gradients of inputs and all 64 parameters as PyTorch's."""
    torch = torch64
    a, b = _pair(torch, lambda m: m.nn.Transformer(
        d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16,
        dropout=0.0, batch_first=batch_first, norm_first=norm_first))
    assert repr(a) == repr(b)
    rng = np.random.default_rng(2)
    src = rng.standard_normal((2, 5, 8) if batch_first else (5, 2, 8))
    tgt = rng.standard_normal((2, 4, 8) if batch_first else (4, 2, 8))
    pad = np.zeros((2, 5), dtype=bool)
    pad[1, -1] = True
    res = []
    for m, mod in ((sg, a), (torch, b)):
        s, t = m.tensor(src, requires_grad=True), m.tensor(tgt, requires_grad=True)
        mask = mod.generate_square_subsequent_mask(4)
        out = mod(s, t, tgt_mask=mask, src_key_padding_mask=m.tensor(pad),
                  memory_key_padding_mask=m.tensor(pad))
        (out ** 2).sum().backward()
        res.append([mask.numpy(), out.detach().numpy(), s.grad.numpy(), t.grad.numpy(),
                    _grads(mod)])
    np.testing.assert_array_equal(res[0][0], res[1][0])
    for x, y in zip(res[0][1:4], res[1][1:4]):
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-11)
    assert len(res[0][4]) == len(res[1][4]) == 64
    for k in res[1][4]:
        np.testing.assert_allclose(res[0][4][k], res[1][4][k], rtol=1e-9, atol=1e-11, err_msg=k)


def test_decoder_layer_alone_as_pytorch(torch64):
    torch = torch64
    a, b = _pair(torch, lambda m: m.nn.TransformerDecoder(
        m.nn.TransformerDecoderLayer(8, 2, dim_feedforward=12, dropout=0.0, activation="gelu"),
        1))
    rng = np.random.default_rng(4)
    tgt, mem = rng.standard_normal((3, 8)), rng.standard_normal((5, 8))   # unbatched
    outs = []
    for m, mod in ((sg, a), (torch, b)):
        outs.append(mod(m.tensor(tgt), m.tensor(mem)).detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10, atol=1e-12)


def test_transformer_misuse_raises_as_pytorch():
    sg.manual_seed(0)
    model = sg.nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                              dim_feedforward=8)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        model(sg.randn(5, 2, 4), sg.randn(3, 1, 4))
    with pytest.raises(RuntimeError, match="feature number of src and tgt"):
        model(sg.randn(5, 2, 4), sg.randn(3, 2, 6))
    mha = sg.nn.MultiheadAttention(4, 2)
    x = sg.randn(3, 1, 4)
    with pytest.raises(RuntimeError, match="shape of the 2D attn_mask"):
        mha(x, x, x, attn_mask=sg.zeros(3, 4))


def test_attention_with_bias_kv_is_verified_exactly():
    sg.manual_seed(0)
    mha = sg.nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, kdim=3).double()
    q, k = sg.randn(2, 1, 4), sg.randn(3, 1, 3)
    report = sg.verify.check(lambda *ps: mha(q, k, k.sum(-1, keepdim=True).expand(3, 1, 4))[0]
                             .sum(), *mha.parameters())
    assert report.ok, report.table()
