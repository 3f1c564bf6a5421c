"""symgrad.utils.data against torch.utils.data: the same batches, sizes and splits."""

import numpy as np
import pytest

import symgrad as sg


def _batches(lib, **options):
    x = lib.tensor(np.arange(20.0).reshape(10, 2))
    y = lib.tensor(np.arange(10))
    loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(x, y), **options)
    return len(loader), [[t.numpy().tolist() for t in batch] for batch in loader]


@pytest.mark.parametrize("options", [{"batch_size": 4}, {"batch_size": 4, "drop_last": True},
                                     {"batch_size": 10}, {"batch_size": 3, "sampler": [9, 0, 5]}])
def test_batches_match_torch(torch, options):
    assert _batches(sg, **options) == _batches(torch, **options)


def test_shuffle_covers_every_sample_once_per_epoch(torch):
    sg.manual_seed(0)
    n, batches = _batches(sg, batch_size=3, shuffle=True)
    labels = [v for _, ys in batches for v in ys]
    assert n == 4 and sorted(labels) == list(range(10)) and labels != list(range(10))
    assert [len(b[1]) for b in batches] == [3, 3, 3, 1]


def test_collate_of_dicts_numbers_and_single_samples(torch):
    class Pairs:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.full(2, float(i)), "i": i, "w": i / 2}

    for lib in (torch, sg):
        batch = next(iter(lib.utils.data.DataLoader(Pairs(), batch_size=2)))
        assert batch["x"].numpy().tolist() == [[0.0, 0.0], [1.0, 1.0]]
        assert batch["i"].tolist() == [0, 1] and batch["i"].dtype == lib.int64
        assert batch["w"].tolist() == [0.0, 0.5]
        single = list(lib.utils.data.DataLoader(Pairs(), batch_size=None))
        assert len(single) == 5 and single[3]["i"] == 3


@pytest.mark.parametrize("lengths", [[7, 3], [0.5, 0.3, 0.2], [0.34, 0.33, 0.33]])
def test_random_split_sizes_match_torch(torch, lengths):
    for lib in (torch, sg):
        ds = lib.utils.data.TensorDataset(lib.arange(10))
        parts = lib.utils.data.random_split(ds, lengths)
        sizes = [len(p) for p in parts]
        seen = sorted(int(p[i][0]) for p in parts for i in range(len(p)))
        assert seen == list(range(10))
        if lib is torch:
            expected = sizes
    assert sizes == expected
    with pytest.raises(ValueError, match="Sum of input lengths"):
        sg.utils.data.random_split(sg.utils.data.TensorDataset(sg.arange(10)), [3, 3])


# ====================================================================== save and load
def test_checkpoint_round_trip(tmp_path):
    model = sg.nn.Sequential(sg.nn.Linear(3, 2), sg.nn.BatchNorm1d(2))
    opt = sg.optim.Adam(model.parameters(), lr=0.01)
    model(sg.randn(4, 3)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pt"
    sg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
             "extra": sg.nn.Parameter(sg.ones(2))}, path)
    ckpt = sg.load(path)
    assert ckpt["epoch"] == 3 and isinstance(ckpt["extra"], sg.nn.Parameter)
    fresh = sg.nn.Sequential(sg.nn.Linear(3, 2), sg.nn.BatchNorm1d(2))
    fresh.load_state_dict(ckpt["model"])
    for (k, a), (_, b) in zip(fresh.state_dict().items(), model.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), k
    opt2 = sg.optim.Adam(fresh.parameters())
    opt2.load_state_dict(ckpt["optimizer"])
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.state[fresh[0].weight]["step"].item() == 1


def test_load_refuses_code_unless_weights_only_is_false(tmp_path):
    import pickle

    path = tmp_path / "evil.pt"
    sg.save({"f": print}, path)            # a file naming an arbitrary global
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        sg.load(path)
    assert sg.load(path, weights_only=False)["f"] is print
