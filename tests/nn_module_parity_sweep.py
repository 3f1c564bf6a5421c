"""The nn module parity sweep: each module built with the same arguments in symgrad and
PyTorch, symgrad's loaded from PyTorch's ``state_dict`` (as numpy), then compared: repr,
state_dict keys, forward in train and eval mode, gradients of the input and of every
parameter, buffers after a training step (running statistics), the output's node name.

``scripts/nn_parity_sweep.py`` prints the differences; tests/test_nn_parity_sweep.py
asserts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import numpy as np

import symgrad as sg

_R = np.random.default_rng(5)


def rn(*shape):
    return _R.standard_normal(shape)


def ints(high, *shape):
    return _R.integers(0, high, shape).astype(np.int64)


@dataclass
class ModCase:
    name: str
    build: Callable[[Any], Any]      # nn -> module
    inputs: tuple                    # first input requires grad when floating
    train: bool = True               # deterministic in training mode (compare it)
    rtol: float = 1e-12


MODULES: list[ModCase] = []


def mod(name, build, *inputs, **kw):
    MODULES.append(ModCase(name, build, inputs, **kw))


for _n in ("ReLU", "ReLU6", "Sigmoid", "Tanh", "SiLU", "Mish", "SELU", "LogSigmoid", "Softsign",
           "Tanhshrink", "Hardswish", "Hardsigmoid", "ELU", "CELU", "GELU", "Softplus",
           "Hardtanh", "LeakyReLU", "Hardshrink", "Softshrink", "Identity"):
    mod(_n, lambda nn, n=_n: getattr(nn, n)(), rn(3, 4),
        rtol=1e-7 if _n == "Hardsigmoid" else 1e-12)
mod("ReLU[inplace]", lambda nn: nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=True)), rn(3, 4))
mod("ELU[alpha,inplace]", lambda nn: nn.Sequential(nn.Linear(4, 4), nn.ELU(0.5, inplace=True)),
    rn(3, 4))
mod("LeakyReLU[slope]", lambda nn: nn.LeakyReLU(0.2), rn(3, 4))
mod("Hardtanh[range]", lambda nn: nn.Hardtanh(-0.5, 0.5), rn(3, 4))
mod("Threshold", lambda nn: nn.Threshold(0.1, 20.0), rn(3, 4))
mod("GELU[tanh]", lambda nn: nn.GELU("tanh"), rn(3, 4))
mod("Softplus[beta]", lambda nn: nn.Softplus(2.0, 5.0), rn(3, 4))
mod("Softmax", lambda nn: nn.Softmax(dim=1), rn(3, 4))
mod("LogSoftmax", lambda nn: nn.LogSoftmax(dim=-1), rn(3, 4))
mod("Softmin", lambda nn: nn.Softmin(dim=0), rn(3, 4))
mod("GLU", lambda nn: nn.GLU(), rn(3, 4))
mod("PReLU", lambda nn: nn.PReLU(), rn(3, 4))
mod("PReLU[3]", lambda nn: nn.PReLU(3, 0.1), rn(2, 3, 4))
mod("RReLU", lambda nn: nn.RReLU(), rn(3, 4), train=False)
mod("Linear", lambda nn: nn.Linear(4, 3), rn(5, 4))
mod("Linear[nobias,3d]", lambda nn: nn.Linear(4, 3, bias=False), rn(2, 5, 4))
mod("Bilinear", lambda nn: nn.Bilinear(3, 2, 4), rn(5, 3), rn(5, 2))
mod("Flatten", lambda nn: nn.Flatten(), rn(2, 3, 4))
mod("Unflatten", lambda nn: nn.Unflatten(1, (2, 2)), rn(3, 4))
mod("Conv1d", lambda nn: nn.Conv1d(3, 4, 3, padding=1), rn(2, 3, 7))
mod("Conv1d[reflect]", lambda nn: nn.Conv1d(3, 4, 3, padding=1, padding_mode="reflect"),
    rn(2, 3, 7))
mod("Conv2d", lambda nn: nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False), rn(2, 3, 6, 6))
mod("Conv2d[circular,groups]", lambda nn: nn.Conv2d(4, 4, 3, padding=1, groups=2,
                                                     padding_mode="circular"), rn(1, 4, 5, 5))
mod("Conv2d[same,dil]", lambda nn: nn.Conv2d(2, 3, 3, padding="same", dilation=2), rn(1, 2, 6, 6))
mod("Conv2d[unbatched]", lambda nn: nn.Conv2d(2, 3, 2), rn(2, 4, 4))
mod("Conv3d", lambda nn: nn.Conv3d(2, 3, 2), rn(1, 2, 3, 3, 3))
mod("ConvTranspose1d", lambda nn: nn.ConvTranspose1d(3, 2, 3, stride=2), rn(2, 3, 4))
mod("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1,
                                                      output_padding=1), rn(2, 3, 3, 3))
mod("ConvTranspose3d", lambda nn: nn.ConvTranspose3d(2, 2, 2), rn(1, 2, 2, 2, 2))
mod("BatchNorm1d", lambda nn: nn.BatchNorm1d(3), rn(4, 3))
mod("BatchNorm1d[3d]", lambda nn: nn.BatchNorm1d(3, momentum=None), rn(4, 3, 2))
mod("BatchNorm2d", lambda nn: nn.BatchNorm2d(3), rn(2, 3, 2, 2))
mod("BatchNorm2d[noaffine]", lambda nn: nn.BatchNorm2d(3, affine=False), rn(2, 3, 2, 2))
mod("BatchNorm2d[nostats]", lambda nn: nn.BatchNorm2d(3, track_running_stats=False),
    rn(2, 3, 2, 2))
mod("BatchNorm3d", lambda nn: nn.BatchNorm3d(2, eps=1e-3, momentum=0.3), rn(2, 2, 2, 2, 2))
mod("LayerNorm", lambda nn: nn.LayerNorm(4), rn(2, 3, 4))
mod("LayerNorm[noaffine]", lambda nn: nn.LayerNorm((3, 4), elementwise_affine=False),
    rn(2, 3, 4))
mod("LayerNorm[nobias]", lambda nn: nn.LayerNorm(4, bias=False), rn(2, 3, 4))
mod("GroupNorm", lambda nn: nn.GroupNorm(2, 4), rn(2, 4, 3))
mod("GroupNorm[noaffine]", lambda nn: nn.GroupNorm(1, 4, affine=False), rn(2, 4, 3, 2))
mod("InstanceNorm1d", lambda nn: nn.InstanceNorm1d(3), rn(2, 3, 5))
mod("InstanceNorm1d[unbatched]", lambda nn: nn.InstanceNorm1d(3, affine=True), rn(3, 5))
mod("InstanceNorm2d[stats]", lambda nn: nn.InstanceNorm2d(3, affine=True,
                                                          track_running_stats=True),
    rn(2, 3, 3, 2))
mod("InstanceNorm3d[stats,momentum None]", lambda nn: nn.InstanceNorm3d(
    2, momentum=None, track_running_stats=True), rn(2, 2, 2, 2, 2))
mod("RMSNorm", lambda nn: nn.RMSNorm(4), rn(2, 3, 4))
mod("RMSNorm[eps,noaffine]", lambda nn: nn.RMSNorm((3, 4), eps=1e-3, elementwise_affine=False),
    rn(2, 3, 4))
for _k, _d, _shape in (("Zero", 1, (2, 3, 4)), ("Zero", 2, (2, 3, 4, 4)),
                       ("Constant", 1, (2, 3, 4)), ("Constant", 3, (1, 2, 3, 3, 3)),
                       ("Reflection", 1, (2, 3, 4)),
                       ("Reflection", 2, (2, 3, 4, 4)), ("Replication", 2, (2, 3, 4, 4)),
                       ("Replication", 3, (1, 2, 3, 3, 3)), ("Circular", 1, (2, 3, 4)),
                       ("Circular", 2, (2, 3, 4, 4))):
    _pad = (1, 2, 2, 1, 0, 1)[:2 * _d]
    if _k == "Constant":
        mod(f"ConstantPad{_d}d", lambda nn, d=_d, pad=_pad: getattr(nn, f"ConstantPad{d}d")(
            pad, 0.5), rn(*_shape))
        mod(f"ConstantPad{_d}d[int]", lambda nn, d=_d: getattr(nn, f"ConstantPad{d}d")(1, 2.0),
            rn(*_shape))
    else:
        mod(f"{_k}Pad{_d}d", lambda nn, k=_k, d=_d, pad=_pad: getattr(nn, f"{k}Pad{d}d")(pad),
            rn(*_shape))
        mod(f"{_k}Pad{_d}d[int]", lambda nn, k=_k, d=_d: getattr(nn, f"{k}Pad{d}d")(1),
            rn(*_shape))
mod("CosineSimilarity", lambda nn: nn.CosineSimilarity(), rn(3, 4), rn(3, 4))
mod("PairwiseDistance", lambda nn: nn.PairwiseDistance(1.0, keepdim=True), rn(3, 4), rn(3, 4))
mod("Softmax2d", lambda nn: nn.Softmax2d(), rn(2, 3, 2, 2))
mod("Unfold", lambda nn: nn.Unfold(2, padding=1), rn(2, 3, 4, 4))
mod("Fold", lambda nn: nn.Fold((4, 5), 2), rn(2, 12, 12))
mod("LocalResponseNorm", lambda nn: nn.LocalResponseNorm(2), rn(2, 4, 3))
mod("Embedding", lambda nn: nn.Embedding(6, 3), ints(6, 2, 4))
mod("Embedding[pad]", lambda nn: nn.Embedding(6, 3, padding_idx=0), ints(6, 2, 4))
mod("EmbeddingBag", lambda nn: nn.EmbeddingBag(6, 3), ints(6, 2, 4))
mod("EmbeddingBag[sum,offsets]", lambda nn: nn.EmbeddingBag(6, 3, mode="sum", padding_idx=1),
    ints(6, 7), np.array([0, 3, 3]))
mod("EmbeddingBag[max,max_norm]", lambda nn: nn.EmbeddingBag(6, 3, max_norm=1.0, mode="max"),
    ints(6, 2, 4))
mod("MaxPool1d", lambda nn: nn.MaxPool1d(2), rn(2, 3, 8))
mod("MaxPool2d", lambda nn: nn.MaxPool2d(3, stride=2, padding=1), rn(2, 3, 6, 6))
mod("MaxPool2d[indices]", lambda nn: nn.MaxPool2d(2, return_indices=True), rn(2, 3, 4, 4))
mod("MaxPool3d", lambda nn: nn.MaxPool3d(2), rn(1, 2, 4, 4, 4))
mod("AvgPool1d", lambda nn: nn.AvgPool1d(3, 2, 1), rn(2, 3, 8))
mod("AvgPool2d", lambda nn: nn.AvgPool2d(2, ceil_mode=True), rn(2, 3, 5, 5))
mod("AvgPool3d", lambda nn: nn.AvgPool3d(2), rn(1, 2, 4, 4, 4))
mod("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(3), rn(2, 3, 7))
mod("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d((2, 3)), rn(2, 3, 5, 7))
mod("AdaptiveAvgPool3d", lambda nn: nn.AdaptiveAvgPool3d(2), rn(1, 2, 3, 4, 5))
mod("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(3), rn(2, 3, 7))
mod("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d(2), rn(2, 3, 5, 5))
mod("AdaptiveMaxPool3d", lambda nn: nn.AdaptiveMaxPool3d(2), rn(1, 2, 4, 4, 4))
mod("LPPool1d", lambda nn: nn.LPPool1d(2, 2), rn(2, 3, 8))
mod("LPPool2d", lambda nn: nn.LPPool2d(2, 2), rn(2, 3, 4, 4))
mod("Upsample", lambda nn: nn.Upsample(scale_factor=2), rn(2, 3, 4))
mod("Upsample[bilinear]", lambda nn: nn.Upsample(size=(5, 6), mode="bilinear",
                                                  align_corners=True), rn(1, 2, 3, 3))
mod("UpsamplingNearest2d", lambda nn: nn.UpsamplingNearest2d(scale_factor=2), rn(1, 2, 3, 3))
mod("UpsamplingBilinear2d", lambda nn: nn.UpsamplingBilinear2d(size=5), rn(1, 2, 3, 3))
mod("PixelShuffle", lambda nn: nn.PixelShuffle(2), rn(1, 8, 2, 2))
mod("PixelUnshuffle", lambda nn: nn.PixelUnshuffle(2), rn(1, 2, 4, 4))
mod("ChannelShuffle", lambda nn: nn.ChannelShuffle(2), rn(1, 4, 2, 2))
mod("Dropout", lambda nn: nn.Dropout(0.3), rn(3, 4), train=False)
mod("Dropout2d", lambda nn: nn.Dropout2d(), rn(2, 3, 2, 2), train=False)
mod("AlphaDropout", lambda nn: nn.AlphaDropout(0.2), rn(3, 4), train=False)
mod("Sequential", lambda nn: nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)),
    rn(3, 4))
mod("ModuleList", lambda nn: nn.Sequential(*nn.ModuleList([nn.Linear(4, 4), nn.ReLU()])),
    rn(3, 4))
mod("RNN", lambda nn: nn.RNN(3, 4, batch_first=True), rn(2, 5, 3))
mod("LSTM", lambda nn: nn.LSTM(3, 4, num_layers=2), rn(5, 2, 3))
mod("GRU", lambda nn: nn.GRU(3, 4, bidirectional=True), rn(5, 2, 3))
mod("RNNCell", lambda nn: nn.RNNCell(3, 4), rn(2, 3))
mod("LSTMCell", lambda nn: nn.LSTMCell(3, 4), rn(2, 3))
mod("GRUCell", lambda nn: nn.GRUCell(3, 4), rn(2, 3))
mod("MultiheadAttention", lambda nn: nn.MultiheadAttention(4, 2, batch_first=True),
    rn(2, 3, 4), rn(2, 3, 4), rn(2, 3, 4))
mod("TransformerEncoderLayer", lambda nn: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0,
                                                                      batch_first=True),
    rn(2, 3, 4))
_RED = ("mean", "sum", "none")
for _r in _RED:
    mod(f"MSELoss[{_r}]", lambda nn, r=_r: nn.MSELoss(reduction=r), rn(3, 4), rn(3, 4))
    mod(f"L1Loss[{_r}]", lambda nn, r=_r: nn.L1Loss(reduction=r), rn(3, 4), rn(3, 4))
    mod(f"CrossEntropyLoss[{_r}]", lambda nn, r=_r: nn.CrossEntropyLoss(
        reduction=r, label_smoothing=0.1, ignore_index=2), rn(5, 4), ints(4, 5))
    mod(f"NLLLoss[{_r}]", lambda nn, r=_r: nn.NLLLoss(reduction=r), rn(5, 4), ints(4, 5))
    mod(f"BCELoss[{_r}]", lambda nn, r=_r: nn.BCELoss(reduction=r),
        _R.uniform(.1, .9, (3, 4)), _R.uniform(0, 1, (3, 4)))
    mod(f"BCEWithLogitsLoss[{_r}]", lambda nn, r=_r: nn.BCEWithLogitsLoss(reduction=r),
        rn(3, 4), _R.uniform(0, 1, (3, 4)))
    mod(f"HuberLoss[{_r}]", lambda nn, r=_r: nn.HuberLoss(reduction=r, delta=0.5), rn(3, 4),
        rn(3, 4))
    mod(f"SmoothL1Loss[{_r}]", lambda nn, r=_r: nn.SmoothL1Loss(reduction=r, beta=0.5),
        rn(3, 4), rn(3, 4))
    mod(f"KLDivLoss[{_r}]", lambda nn, r=_r: nn.KLDivLoss(reduction=r, log_target=True),
        rn(3, 4), rn(3, 4))
    mod(f"SoftMarginLoss[{_r}]", lambda nn, r=_r: nn.SoftMarginLoss(reduction=r), rn(3, 4),
        np.sign(rn(3, 4)))
    mod(f"MultiMarginLoss[{_r}]", lambda nn, r=_r: nn.MultiMarginLoss(reduction=r), rn(5, 4),
        ints(4, 5))
    mod(f"PoissonNLLLoss[{_r}]", lambda nn, r=_r: nn.PoissonNLLLoss(reduction=r), rn(3, 4),
        _R.uniform(0, 3, (3, 4)))
    mod(f"GaussianNLLLoss[{_r}]", lambda nn, r=_r: nn.GaussianNLLLoss(reduction=r), rn(3, 4),
        rn(3, 4), _R.uniform(.2, 1, (3, 4)))
    mod(f"MarginRankingLoss[{_r}]", lambda nn, r=_r: nn.MarginRankingLoss(0.2, reduction=r),
        rn(5), rn(5), np.sign(rn(5)))
    mod(f"HingeEmbeddingLoss[{_r}]", lambda nn, r=_r: nn.HingeEmbeddingLoss(reduction=r),
        rn(3, 4), np.sign(rn(3, 4)))
    mod(f"CosineEmbeddingLoss[{_r}]", lambda nn, r=_r: nn.CosineEmbeddingLoss(reduction=r),
        rn(3, 4), rn(3, 4), np.sign(rn(3)))
    mod(f"TripletMarginLoss[{_r}]", lambda nn, r=_r: nn.TripletMarginLoss(reduction=r),
        rn(3, 4), rn(3, 4), rn(3, 4))
    mod(f"MultiLabelMarginLoss[{_r}]", lambda nn, r=_r: nn.MultiLabelMarginLoss(reduction=r),
        rn(2, 4), np.array([[3, 0, -1, 1], [1, 2, 0, 3]]))
    mod(f"TripletMarginWithDistanceLoss[{_r}]",
        lambda nn, r=_r: nn.TripletMarginWithDistanceLoss(reduction=r, swap=True), rn(3, 4),
        rn(3, 4), rn(3, 4))
    mod(f"MultiLabelSoftMarginLoss[{_r}]",
        lambda nn, r=_r: nn.MultiLabelSoftMarginLoss(reduction=r), rn(3, 4),
        (_R.random((3, 4)) < .5) * 1.0)
_W = _R.uniform(0.5, 2.0, 4)


def _t(nn, a):
    """``a`` as a tensor of the library whose ``nn`` this is."""
    return sg.tensor(a) if nn is sg.nn else __import__("torch").tensor(a)


mod("CrossEntropyLoss[weight]", lambda nn: nn.CrossEntropyLoss(weight=_t(nn, _W)), rn(5, 4),
    ints(4, 5))
mod("NLLLoss[weight]", lambda nn: nn.NLLLoss(weight=_t(nn, _W), ignore_index=1), rn(5, 4),
    ints(4, 5))
mod("BCEWithLogitsLoss[pos_weight]", lambda nn: nn.BCEWithLogitsLoss(pos_weight=_t(nn, _W)),
    rn(3, 4), _R.uniform(0, 1, (3, 4)))
mod("BCELoss[weight]", lambda nn: nn.BCELoss(weight=_t(nn, _W)), _R.uniform(.1, .9, (3, 4)),
    _R.uniform(0, 1, (3, 4)))


# ------------------------------------------------------------------ misuse
MODULE_MISUSES: list[ModCase] = [
    ModCase("Linear[in features]", lambda nn: nn.Linear(4, 3), (rn(2, 5),)),
    ModCase("Conv2d[channels]", lambda nn: nn.Conv2d(3, 4, 3), (rn(1, 2, 5, 5),)),
    ModCase("Conv2d[too small]", lambda nn: nn.Conv2d(1, 1, 5), (rn(1, 1, 3, 3),)),
    ModCase("BatchNorm1d[dims]", lambda nn: nn.BatchNorm1d(3), (rn(2, 3, 4, 5),)),
    ModCase("BatchNorm2d[dims]", lambda nn: nn.BatchNorm2d(3), (rn(2, 3, 4),)),
    ModCase("BatchNorm1d[channels]", lambda nn: nn.BatchNorm1d(3), (rn(4, 2),)),
    ModCase("BatchNorm1d[one sample]", lambda nn: nn.BatchNorm1d(3), (rn(1, 3),)),
    ModCase("InstanceNorm1d[dims]", lambda nn: nn.InstanceNorm1d(3), (rn(2, 3, 4, 5),)),
    ModCase("InstanceNorm2d[channels]", lambda nn: nn.InstanceNorm2d(3, affine=True),
            (rn(2, 4, 3, 3),)),
    ModCase("LayerNorm[shape]", lambda nn: nn.LayerNorm(5), (rn(2, 4),)),
    ModCase("GroupNorm[divisible]", lambda nn: nn.GroupNorm(3, 4), ()),
    ModCase("Embedding[out of range]", lambda nn: nn.Embedding(3, 2), (np.array([0, 3]),)),
    ModCase("Embedding[float index]", lambda nn: nn.Embedding(3, 2), (rn(2),)),
    ModCase("CrossEntropyLoss[float target]", lambda nn: nn.CrossEntropyLoss(),
            (rn(2, 3), rn(2))),
    ModCase("NLLLoss[batch]", lambda nn: nn.NLLLoss(), (rn(2, 3), ints(3, 3))),
    ModCase("MSELoss[reduction]", lambda nn: nn.MSELoss(reduction="avg"), (rn(2), rn(2))),
    ModCase("LSTM[input size]", lambda nn: nn.LSTM(3, 4), (rn(5, 2, 4),)),
    ModCase("RNN[dims]", lambda nn: nn.RNN(3, 4), (rn(5, 2, 3, 1),)),
    ModCase("MaxPool2d[too small]", lambda nn: nn.MaxPool2d(3), (rn(1, 1, 2, 2),)),
    ModCase("PixelShuffle[channels]", lambda nn: nn.PixelShuffle(2), (rn(1, 3, 2, 2),)),
    ModCase("ReflectionPad1d[too big]", lambda nn: nn.ReflectionPad1d(3), (rn(1, 2, 3),)),
    ModCase("ConstantPad2d[tuple]", lambda nn: nn.ConstantPad2d((1, 2, 3), 0.0),
            (rn(1, 2, 3),)),
    ModCase("Softmax2d[dims]", lambda nn: nn.Softmax2d(), (rn(2, 3),)),
    ModCase("Unflatten[sizes]", lambda nn: nn.Unflatten(1, (2, 3)), (rn(2, 4),)),
    ModCase("MultiheadAttention[heads]", lambda nn: nn.MultiheadAttention(5, 2), ()),
]


def module_misuse_outcome(lib: str, c: ModCase):
    """The error (type name, message) building the module or calling it raises, or None."""
    m = _lib(lib)
    try:
        module = c.build(m.nn)
        if c.inputs:
            module(*[m.tensor(a) for a in c.inputs])
    except Exception as e:  # noqa: BLE001 - compared
        return type(e).__name__, str(e)
    return None


# ------------------------------------------------------------------ running
def _lib(name: str):
    if name == "symgrad":
        return sg
    import torch

    return torch


def _np(t):
    return None if t is None else np.asarray(t.detach().numpy())


def _first(out):
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


def _outs(out) -> list:
    """Every tensor of a (nested) output, flattened."""
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in _outs(o)]
    return [out] if out is not None else []


def torch_state(c: ModCase) -> dict:
    """The PyTorch module's initial state as numpy (a fixed seed)."""
    import torch

    torch.manual_seed(0)
    return {k: v.detach().numpy().copy() for k, v in c.build(torch.nn).state_dict().items()}


def observe_module(lib: str, c: ModCase, state: dict) -> dict:
    m = _lib(lib)
    res: dict = {}
    try:
        if lib == "torch":
            m.manual_seed(0)
        module = c.build(m.nn)
        if lib == "symgrad":
            module.load_state_dict({k: m.tensor(v) for k, v in state.items()})
    except Exception as e:  # noqa: BLE001 - compared
        return {"build": ("raised", type(e).__name__, str(e)[:200])}
    res["repr"] = repr(module)
    res["keys"] = list(module.state_dict().keys())
    res["params"] = [n for n, _ in module.named_parameters()]
    modes = (("train", True), ("eval", False)) if c.train else (("eval", False),)
    for mode, flag in modes:
        module.train(flag)
        ts = [m.tensor(a) for a in c.inputs]
        if ts[0].dtype.is_floating_point:
            ts[0].requires_grad_(True)
        for p in module.parameters():
            p.grad = None
        try:
            out = module(*ts)
        except Exception as e:  # noqa: BLE001
            res[mode] = ("raised", type(e).__name__, str(e)[:200])
            continue
        outs = _outs(out)
        res[mode] = [_np(o) for o in outs]
        first = _first(out)
        res[mode + ".node"] = first.grad_fn and type(first.grad_fn).__name__
        if first.requires_grad:
            ct = np.random.default_rng(3).standard_normal(tuple(first.shape))
            first.backward(m.tensor(ct))
            res[mode + ".grads"] = [_np(ts[0].grad)] + [_np(p.grad)
                                                        for p in module.parameters()]
        res[mode + ".state"] = {k: _np(v) for k, v in module.state_dict().items()}
    return res


def _same(a, b, rtol) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], rtol) for k in a)
    if isinstance(a, list) and isinstance(b, list) and a and isinstance(a[0], (np.ndarray,
                                                                             type(None))):
        return len(a) == len(b) and all(_same(x, y, rtol) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            return bool(np.allclose(a, b, rtol=rtol, atol=1e-12, equal_nan=True))
        return bool(np.array_equal(a, b))
    return a == b


def compare_module(c: ModCase) -> dict:
    state = torch_state(c)
    s, t = observe_module("symgrad", c, state), observe_module("torch", c, state)
    return {k: (s.get(k), t.get(k)) for k in sorted(set(s) | set(t))
            if not _same(s.get(k), t.get(k), c.rtol)}
