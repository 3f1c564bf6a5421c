"""``symgrad.utils.data``: datasets, samplers and ``DataLoader``, so a PyTorch training
loop's data pipeline runs unchanged."""

from symgrad.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset,
                                        StackDataset, Subset, TensorDataset, random_split)
from symgrad.utils.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                                        SubsetRandomSampler, WeightedRandomSampler)
from symgrad.utils.data.dataloader import (DataLoader, default_collate, default_convert,
                                           get_worker_info)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DataLoader", "default_collate", "default_convert", "get_worker_info"]
