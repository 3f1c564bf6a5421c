"""Datasets, samplers and DataLoader options beyond the basic loop, against PyTorch's
(where no random draw is involved) and by their defining properties (where one is)."""

import numpy as np
import pytest

import symgrad as sg


def _tensors(m, n=7):
    return m.utils.data.TensorDataset(m.tensor(np.arange(n * 2.0).reshape(n, 2)),
                                      m.tensor(np.arange(n)))


class _Count:
    """An iterable dataset of 0..n-1, written against either library's base class."""

    @staticmethod
    def make(m, n):
        class Count(m.utils.data.IterableDataset):
            def __iter__(self):
                return iter(range(n))

            def __len__(self):
                return n

        return Count()


LOADERS = [
    lambda m: m.utils.data.DataLoader(_tensors(m), batch_size=3),
    lambda m: m.utils.data.DataLoader(_tensors(m), batch_size=3, drop_last=True),
    lambda m: m.utils.data.DataLoader(_tensors(m), batch_size=None),
    lambda m: m.utils.data.DataLoader(_tensors(m), batch_sampler=m.utils.data.BatchSampler(
        m.utils.data.SequentialSampler(range(7)), 2, False)),
    lambda m: m.utils.data.DataLoader(_tensors(m) + _tensors(m, 3), batch_size=4),
    lambda m: m.utils.data.DataLoader(_Count.make(m, 5), batch_size=2),
    lambda m: m.utils.data.DataLoader(_Count.make(m, 5) + _Count.make(m, 2), batch_size=3,
                                      drop_last=True),
    lambda m: m.utils.data.DataLoader(m.utils.data.StackDataset(
        a=_tensors(m, 4), b=m.utils.data.TensorDataset(m.arange(4))), batch_size=3),
    lambda m: m.utils.data.DataLoader([np.array([i, i + 1.0]) for i in range(3)],
                                      batch_size=None),
]


@pytest.mark.parametrize("k", range(len(LOADERS)))
def test_loader_batches_as_pytorch(torch, k):
    a, b = LOADERS[k](sg), LOADERS[k](torch)
    assert len(a) == len(b)
    got, want = list(a), list(b)
    assert len(got) == len(want)

    def plain(x):
        if isinstance(x, dict):
            return {key: plain(v) for key, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [plain(v) for v in x]
        if hasattr(x, "tolist"):
            return (type(x).__name__, x.tolist())
        return x

    assert plain(got) == plain(want)


def test_concat_dataset_indexing_as_pytorch(torch):
    for m in (sg, torch):
        d = m.utils.data.ConcatDataset([_tensors(m, 3), _tensors(m, 2)])
        assert d.cumulative_sizes == [3, 5] and len(d) == 5
        assert d[3][1].item() == 0 and d[-1][1].item() == 1 and d[2][1].item() == 2
        with pytest.raises(ValueError, match="should not exceed dataset length"):
            d[-6]


def test_samplers_by_their_properties():
    g = sg.Generator().manual_seed(3)
    assert sorted(sg.utils.data.RandomSampler(range(6), generator=g)) == list(range(6))
    longer = list(sg.utils.data.RandomSampler(range(4), num_samples=10, generator=g))
    assert len(longer) == 10 and sorted(longer[:8]) == sorted(list(range(4)) * 2)
    drawn = list(sg.utils.data.RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}
    w = list(sg.utils.data.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 40, generator=g))
    assert len(w) == 40 and set(w) <= {1, 3}
    once = list(sg.utils.data.WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False))
    assert sorted(once) == [0, 1, 2]
    sub = list(sg.utils.data.SubsetRandomSampler([10, 20, 30], generator=g))
    assert sorted(sub) == [10, 20, 30]
    assert len(sg.utils.data.DataLoader(range(10), batch_size=4, shuffle=True)) == 3


def test_data_misuse_raises_as_pytorch(torch):
    for m in (sg, torch):
        d = m.utils.data
        with pytest.raises(ValueError, match="mutually exclusive with batch_size"):
            d.DataLoader(range(4), batch_size=2, batch_sampler=[[0, 1]])
        with pytest.raises(ValueError, match="expected unspecified shuffle option"):
            d.DataLoader(_Count.make(m, 3), shuffle=True)
        with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
            d.DataLoader(range(4), batch_size=None, drop_last=True)
        with pytest.raises(ValueError, match="num_samples should be a positive integer"):
            d.WeightedRandomSampler([1.0, 2.0], 0)
        with pytest.raises(ValueError, match="batch_size should be a positive integer"):
            d.BatchSampler(range(3), 0, False)
        with pytest.raises(ValueError, match="Size mismatch between datasets"):
            d.StackDataset(range(2), range(3))
