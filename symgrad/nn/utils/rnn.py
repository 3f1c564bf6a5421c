"""``pad_sequence``: variable-length sequences padded into one tensor, as PyTorch's.

(PackedSequence is not supported: the recurrent layers take padded tensors.)
"""

from __future__ import annotations

from collections.abc import Sequence

from symgrad.tensor import Tensor

__all__ = ["pad_sequence"]


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
