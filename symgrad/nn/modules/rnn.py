"""Recurrent layers: ``RNNCell``, ``LSTMCell``, ``GRUCell`` and the multi-layer ``RNN``,
``LSTM`` and ``GRU``, with PyTorch's arguments, parameter names and shapes, default init,
shape checks and printed form.

They are compositions of existing ops (``linear``, ``sigmoid``, ``tanh``, ``relu``,
``chunk``, ``stack``, ``cat``), so every step of an unrolled sequence is an ordinary graph
node that ``verify.check`` mirrors in SymPy. The input projection ``W_ih x + b_ih`` of a
whole sequence is one ``linear`` call; only ``W_hh h`` runs step by step.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

from symgrad.factories import empty, zeros
from symgrad.nn import functional as F, init
from symgrad.nn.modules.module import Module
from symgrad.nn.parameter import Parameter
from symgrad.ops import shape as _shape
from symgrad.ops.elementwise import where
from symgrad.tensor import Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

State = tuple[Tensor, ...]          # (h,) for RNN and GRU, (h, c) for LSTM
Step = Callable[..., State]


# ---- one time step: ``gx`` is ``W_ih x + b_ih`` (gates along the last dimension) --------

def _rnn_step(act: Callable[[Tensor], Tensor]) -> Step:
    def step(gx: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None,
             w_hr: Tensor | None = None) -> State:
        return (act(gx + F.linear(state[0], w_hh, b_hh)),)
    return step


def _lstm_step(gx: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None,
               w_hr: Tensor | None = None) -> State:
    h, c = state
    i, f, g, o = (gx + F.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    h = F.sigmoid(o) * F.tanh(c)
    return (h if w_hr is None else F.linear(h, w_hr), c)


def _gru_step(gx: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None,
              w_hr: Tensor | None = None) -> State:
    h = state[0]
    x_r, x_z, x_n = gx.chunk(3, -1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r = F.sigmoid(x_r + h_r)
    z = F.sigmoid(x_z + h_z)
    n = F.tanh(x_n + r * h_n)
    return ((1 - z) * n + z * h,)


_STEPS: dict[str, Step] = {"RNN_TANH": _rnn_step(F.tanh), "RNN_RELU": _rnn_step(F.relu),
                           "LSTM": _lstm_step, "GRU": _gru_step}
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _reset_uniform(m: Module, hidden_size: int) -> None:
    """PyTorch's recurrent init: every parameter Uniform(-1/sqrt(hidden), 1/sqrt(hidden))."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for p in m.parameters():
        init.uniform_(p, -bound, bound)


# ---- cells: one step on (batch, features) or (features,) ---------------------------------

class RNNCellBase(Module):
    """The parameters ``weight_ih`` (gates*hidden, input), ``weight_hh`` (gates*hidden,
    hidden), ``bias_ih`` and ``bias_hh``, and the shape checks, of every cell."""

    _name = ""
    _mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        shape = (num_chunks * hidden_size,)
        self.weight_ih = Parameter(empty(shape + (input_size,), dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(shape + (hidden_size,), dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(shape, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(shape, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step(self, input: Tensor, hx: State | None, n_states: int) -> State:
        """Check shapes as PyTorch does, add and remove the batch dimension of an unbatched
        input, and run one step of ``self._mode``."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{self._name}: Expected input to be 1D or 2D, got "
                             f"{input.dim()}D instead")
        if hx is not None:
            for k, h in enumerate(hx):
                if h.dim() not in (1, 2):
                    what = f"hx[{k}]" if n_states == 2 else "hidden"
                    raise ValueError(f"{self._name}: Expected {what} to be 1D or 2D, got "
                                     f"{h.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = (zeros(input.size(0), self.hidden_size, dtype=input.dtype),) * n_states
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx)
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} "
                               f"expected {self.input_size}")
        for k, h in enumerate(hx):
            if input.size(0) != h.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{k} "
                                   f"batch size {h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {h.size(1)}, "
                                   f"expected {self.hidden_size}")
        gx = F.linear(input, self.weight_ih, self.bias_ih)
        out = _STEPS[self._mode](gx, hx, self.weight_hh, self.bias_hh)
        return out if batched else tuple(t.squeeze(0) for t in out)


class RNNCell(RNNCellBase):
    """``h' = act(W_ih x + b_ih + W_hh h + b_hh)`` with ``act`` tanh or relu."""

    _name = "RNNCell"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    @property
    def _mode(self) -> str:
        return "RNN_" + self.nonlinearity.upper()

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._step(input, None if hx is None else (hx,), 1)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o); returns ``(h', c')``."""

    _name, _mode = "LSTMCell", "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        h, c = self._step(input, None if hx is None else tuple(hx), 2)
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n with ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``)."""

    _name, _mode = "GRUCell", "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step(input, None if hx is None else (hx,), 1)[0]


# ---- multi-layer, optionally bidirectional layers over (seq, batch, features) ------------

class RNNBase(Module):
    """Stacked recurrent layers of one ``mode`` ("RNN_TANH", "RNN_RELU", "LSTM", "GRU"),
    parameters named as PyTorch's (``weight_ih_l{k}``, ..., ``_reverse`` for the backward
    direction), so state dicts move between symgrad and PyTorch unchanged."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                                  ("input_size", input_size, int),
                                  ("hidden_size", hidden_size, int)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                                f"{type(value).__name__}")
            if kind is int and value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        gates = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:self._directions]:
                n_in = input_size if layer == 0 else real_hidden * self._directions
                shapes = {"weight_ih": (gates, n_in), "weight_hh": (gates, real_hidden)}
                if bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    names.append(f"{kind}_l{layer}{suffix}")
                    setattr(self, names[-1], Parameter(empty(shape, dtype=dtype,
                                                             device=device)))
                self._flat_weights_names += names
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters per layer and direction, in PyTorch's order."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """No-op: PyTorch compacts cuDNN weights here; symgrad has nothing to compact."""

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("proj_size", 0), ("num_layers", 1), ("bias", True),
                              ("batch_first", False), ("dropout", 0),
                              ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    # -- forward ---------------------------------------------------------------------------

    def _prepare(self, input: Tensor, hx: State | None,
                 batch_first: bool | None = None) -> tuple[Tensor, State, bool]:
        """PyTorch's checks and conventions: returns the input as (seq, batch, features),
        the initial states as (layers*directions, batch, size), and whether it was batched.
        (``batch_first=False`` for the padded form of a packed input, which is time-major.)"""
        batch_first = self.batch_first if batch_first is None else batch_first
        name = "RNN" if self.mode.startswith("RNN") else self.mode
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                             f"{'tensor ' if name == 'RNN' else ''}instead")
        batched = input.dim() == 3
        if hx is not None:
            want = 3 if batched else 2
            if any(h.dim() != want for h in hx):
                kind = "batched 3-D" if batched else "unbatched 2-D"
                if len(hx) == 2:
                    raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D "
                                       f"but got ({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got "
                                   f"{hx[0].dim()}-D tensor")
        if not batched:
            input = input.unsqueeze(0 if batch_first else 1)
            hx = None if hx is None else tuple(h.unsqueeze(1) for h in hx)
        if batch_first:
            input = input.transpose(0, 1)
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight_dtype}). Convert input: input.to({weight_dtype}), or "
                             f"convert model: model.to({input.dtype})")
        if input.size(-1) != self.input_size:
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")
        if input.size(0) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        lead = (self.num_layers * self._directions, input.size(1))
        sizes = [self.proj_size or self.hidden_size] + [self.hidden_size] * (self.mode == "LSTM")
        if hx is None:
            hx = tuple(zeros(*lead, s, dtype=input.dtype) for s in sizes)
        for k, (h, s) in enumerate(zip(hx, sizes)):
            if tuple(h.shape) != lead + (s,):
                what = f"hidden[{k}]" if len(sizes) == 2 else "hidden"
                raise RuntimeError(f"Expected {what} size {lead + (s,)}, got {list(h.shape)}")
        return input, hx, batched

    def _weights(self, layer: int, suffix: str) -> tuple[Tensor | None, ...]:
        """``(w_ih, w_hh, b_ih, b_hh, w_hr)`` of one layer and direction (None if absent)."""
        return tuple(getattr(self, f"{kind}_l{layer}{suffix}", None)
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    def _run(self, input: Tensor, hx: State, lengths: Any = None) -> tuple[Tensor, State]:
        """All layers and directions over ``input`` (seq, batch, features); returns the last
        layer's output and the final states stacked as (layers*directions, batch, size).

        With ``lengths`` (a packed input's), a sequence's state stops changing after its
        last step and its outputs there are zeros, so the reverse direction starts at each
        sequence's own end, as PyTorch's packed sequences run."""
        step, n_dir = _STEPS[self.mode], self._directions
        initial = [h.unbind(0) for h in hx]
        masks = None
        if lengths is not None:
            from symgrad import tensor as _tensor

            masks = [_tensor((lengths > t)[:, None]) for t in range(input.shape[0])]
        finals: list[State] = []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                input = F.dropout(input, self.dropout, training=True)
            outs = []
            for d, suffix in enumerate(("", "_reverse")[:n_dir]):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, suffix)
                state = tuple(h[layer * n_dir + d] for h in initial)
                gx = F.linear(input, w_ih, b_ih).unbind(0)
                hs = []
                for t in (range(len(gx) - 1, -1, -1) if d else range(len(gx))):
                    new = step(gx[t], state, w_hh, b_hh, w_hr)
                    if masks is None:
                        state = new
                        hs.append(state[0])
                        continue
                    state = tuple(where(masks[t], a, b) for a, b in zip(new, state))
                    hs.append(where(masks[t], new[0], new[0] * 0))
                outs.append(_shape.stack(hs[::-1] if d else hs))
                finals.append(state)
            input = outs[0] if n_dir == 1 else _shape.cat(outs, 2)
        return input, tuple(_shape.stack([f[k] for f in finals]) for k in range(len(hx)))

    def _forward(self, input: Any, hx: State | None) -> tuple[Any, State]:
        from symgrad.nn.utils.rnn import PackedSequence

        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        input, hx, batched = self._prepare(input, hx)
        out, h_n = self._run(input, hx)
        if self.batch_first:   # PyTorch's RNN and GRU kernels transpose in place, LSTM's not
            out = out.transpose(0, 1) if self.mode == "LSTM" else out.transpose_(0, 1)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
            h_n = tuple(h.squeeze(1) for h in h_n)
        return out, h_n


    def _forward_packed(self, packed: Any, hx: State | None) -> tuple[Any, State]:
        """A PackedSequence in, one out (the states in the caller's order, as PyTorch)."""
        from symgrad import cat
        from symgrad.nn.utils.rnn import PackedSequence, pad_packed_sequence

        sorted_idx, unsorted_idx = packed.sorted_indices, packed.unsorted_indices
        padded, lengths = pad_packed_sequence(PackedSequence(packed.data, packed.batch_sizes))
        if hx is not None and sorted_idx is not None:
            hx = tuple(h.index_select(1, sorted_idx) for h in hx)
        input, hx, _ = self._prepare(padded, hx, batch_first=False)
        out, h_n = self._run(input, hx, lengths._data)
        sizes = packed.batch_sizes
        data = cat([out[t, :int(b)] for t, b in enumerate(sizes.tolist())])
        if unsorted_idx is not None:
            h_n = tuple(h.index_select(1, unsorted_idx) for h in h_n)
        return PackedSequence(data, sizes, sorted_idx, unsorted_idx), h_n


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, act tanh or relu.

    Arguments after ``hidden_size`` as PyTorch's (``nonlinearity`` is the fourth)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None, **kwargs: Any) -> None:
        _no_projection(kwargs)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        out, (h_n,) = self._forward(input, None if hx is None else (hx,))
        return out, h_n


class LSTM(RNNBase):
    """Long short-term memory layers; ``proj_size > 0`` projects ``h`` by ``weight_hr``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        out, (h_n, c_n) = self._forward(input, None if hx is None else tuple(hx))
        return out, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit layers (gates r, z, n, as ``GRUCell``)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        _no_projection(kwargs)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        out, (h_n,) = self._forward(input, None if hx is None else (hx,))
        return out, h_n


def _no_projection(kwargs: dict[str, Any]) -> None:
    """RNN and GRU take no ``proj_size`` (PyTorch's ValueError) nor other extra keywords."""
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
