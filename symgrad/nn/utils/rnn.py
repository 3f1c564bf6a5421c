"""Variable-length sequences: ``pad_sequence``, and PyTorch's ``PackedSequence`` with
``pack_padded_sequence`` / ``pad_packed_sequence`` / ``pack_sequence`` (the recurrent
layers take packed input, as PyTorch's do)."""

from __future__ import annotations

from typing import Any, NamedTuple
from collections.abc import Sequence

import numpy as np

from symgrad.tensor import Tensor

__all__ = ["pad_sequence", "PackedSequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence"]


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Tensors of shapes (L_i, *) stacked into (L_max, B, *) (or (B, L_max, *) with
    ``batch_first``), each padded with ``padding_value`` at its end (or its start, with
    ``padding_side="left"``); the gradient reaches every sequence."""
    from symgrad import stack
    from symgrad.nn import functional as F

    if padding_side not in ("left", "right"):
        raise ValueError(f'Expected padding_side to be one of left or right, but got '
                         f'{padding_side}.')
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in seqs)
    trailing = tuple(seqs[0].shape[1:])
    padded = []
    for s in seqs:
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(f"The size of tensor a ({trailing}) must match the size of "
                               f"tensor b ({tuple(s.shape[1:])}): sequences must share their "
                               "trailing dimensions")
        extra = longest - s.shape[0]
        amounts = [0, 0] * len(trailing) + ([0, extra] if padding_side == "right"
                                             else [extra, 0])
        padded.append(F.pad(s, amounts, value=padding_value) if extra else s)
    return stack(padded, 0 if batch_first else 1)


class PackedSequence(NamedTuple):
    """Sequences of different lengths in one tensor, step by step (PyTorch's layout):
    ``data`` holds, for each time step, the entries of the sequences still running
    (longest first); ``batch_sizes[t]`` says how many. ``sorted_indices`` /
    ``unsorted_indices`` map between that order and the caller's (None if it was sorted)."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


def _lengths(lengths: Any) -> np.ndarray:
    a = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths, dtype=np.int64)
    if a.ndim != 1:
        raise RuntimeError(f"lengths must be a 1D tensor, got {a.ndim}D")
    return a


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack the padded (T, B, *) (or (B, T, *)) ``input`` of sequences of ``lengths``."""
    from symgrad import cat, tensor

    n = _lengths(lengths)
    if n.size and n.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    sorted_idx = unsorted_idx = None
    if enforce_sorted:
        if np.any(np.diff(n) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
    else:
        order = np.argsort(-n, kind="stable")
        sorted_idx, unsorted_idx = tensor(order), tensor(np.argsort(order))
        input = input.index_select(0 if batch_first else 1, sorted_idx)
        n = n[order]
    if batch_first:
        input = input.transpose(0, 1)
    if n.size and n[0] > input.shape[0]:
        raise RuntimeError(f"Expected all lengths to be at most the padded length "
                           f"{input.shape[0]}, got {int(n[0])}")
    sizes = np.array([int((n > t).sum()) for t in range(int(n[0]) if n.size else 0)])
    data = cat([input[t, :int(b)] for t, b in enumerate(sizes)])
    return PackedSequence(data, tensor(sizes), sorted_idx, unsorted_idx)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The padded tensor (T, B, *) (or (B, T, *)) and the lengths of a PackedSequence, in
    the caller's order (undoing ``pack_padded_sequence``)."""
    from symgrad import stack, tensor
    from symgrad.nn import functional as F

    data, sizes = sequence.data, _lengths(sequence.batch_sizes)
    batch, steps = int(sizes[0]), len(sizes)
    rows, start = [], 0
    trailing = [0, 0] * (data.ndim - 1)
    for b in sizes:
        b = int(b)
        part = data[start:start + b]
        rows.append(F.pad(part, trailing + [0, batch - b], value=padding_value)
                    if b < batch else part)
        start += b
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        pad_row = F.pad(data[:0], trailing + [0, batch], value=padding_value)
        rows += [pad_row] * (total_length - steps)
    padded = stack(rows)
    lengths = np.array([int((sizes > i).sum()) for i in range(batch)])
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices._data]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(lengths)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
