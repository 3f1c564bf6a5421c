"""``symgrad.utils``: ``symgrad.utils.data`` (datasets and batching) and
``symgrad.utils.checkpoint``, as ``torch.utils``."""

from symgrad.utils import checkpoint, data

__all__ = ["checkpoint", "data"]
