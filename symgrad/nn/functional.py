"""``symgrad.nn.functional``: PyTorch's functional API over the op table."""

from __future__ import annotations

from symgrad.ops import relu, sigmoid, tanh  # noqa: F401
from symgrad.ops.loss import binary_cross_entropy_with_logits, mse_loss  # noqa: F401

__all__ = ["binary_cross_entropy_with_logits", "mse_loss", "relu", "sigmoid", "tanh"]
