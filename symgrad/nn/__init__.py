"""``symgrad.nn``: PyTorch-style functional layers and losses (``symgrad.nn.functional``)."""

from symgrad.nn import functional

__all__ = ["functional"]
