"""``symgrad.device``: code written for PyTorch that names its device runs unchanged."""

import pickle

import pytest

import symgrad as sg


def test_cpu_device_objects():
    d = sg.device("cpu")
    assert repr(d) == "device(type='cpu')" and str(d) == "cpu"
    assert d.type == "cpu" and d.index is None
    assert d == sg.device("cpu") and hash(d) == hash(sg.device("cpu"))
    assert d != "cpu"   # as in PyTorch: a device is not equal to its string
    assert sg.device("cpu:0") == sg.device("cpu", 0) != d
    assert repr(sg.device("cuda", 1)) == "device(type='cuda', index=1)"
    assert str(sg.device("cuda:1")) == "cuda:1" and sg.device(sg.device("mps")).type == "mps"
    assert pickle.loads(pickle.dumps(sg.device("cpu:0"))) == sg.device("cpu:0")


def test_tensors_live_on_the_cpu_device():
    t = sg.ones(2, device=sg.device("cpu"))
    assert t.device == sg.device("cpu") and t.device.type == "cpu"
    assert sg.zeros(2, device="cpu").device == t.device
    assert t.to(sg.device("cpu")) is t and t.to("cpu", sg.float64).dtype == sg.float64
    assert t.to(device="cpu") is t


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cpu:-1"])
def test_bad_device_strings_are_refused(bad):
    with pytest.raises(RuntimeError):
        sg.device(bad)


def test_other_devices_can_be_named_but_not_used():
    d = sg.device("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        sg.ones(2, device=d)
    with pytest.raises(RuntimeError, match="CPU only"):
        sg.ones(2).to(d)
    with pytest.raises(RuntimeError, match="CPU only"):
        sg.ones(2).to("cuda:0")


def test_device_matches_torch():
    torch = pytest.importorskip("torch")
    for spec in ("cpu", "cpu:0", "cuda", "cuda:3", "mps"):
        assert repr(sg.device(spec)) == repr(torch.device(spec))
        assert str(sg.device(spec)) == str(torch.device(spec))
    assert repr(sg.ones(1).device) == repr(torch.ones(1).device)
