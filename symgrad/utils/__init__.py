"""``symgrad.utils``: ``symgrad.utils.data`` (datasets and batching), as ``torch.utils``."""

from symgrad.utils import data

__all__ = ["data"]
