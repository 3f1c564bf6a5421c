"""``symgrad.utils.data``: ``Dataset``, ``TensorDataset``, ``random_split`` and
``DataLoader``, so a PyTorch training loop's data pipeline runs unchanged."""

from symgrad.utils.data.dataset import Dataset, Subset, TensorDataset, random_split
from symgrad.utils.data.dataloader import DataLoader, default_collate, default_convert

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader",
           "default_collate", "default_convert"]
