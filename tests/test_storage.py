"""``untyped_storage()`` / ``storage()``: which tensors share memory, and what the storage
shows, as PyTorch's (the tensor tutorial's check that a view shares its base's storage)."""

import pytest

import symgrad as sg

RELATIONS = {
    "view": lambda x: x.view(3, 2), "index": lambda x: x[1], "t": lambda x: x.t(),
    "reshape": lambda x: x.reshape(-1), "detach": lambda x: x.detach(),
    "clone": lambda x: x.clone(), "contiguous_t": lambda x: x.t().contiguous(),
    "narrow": lambda x: x.narrow(1, 1, 2), "expand": lambda x: x[:1].expand(4, 3),
    "add": lambda x: x + 0, "squeeze": lambda x: x.unsqueeze(0).squeeze(0),
}


@pytest.mark.parametrize("name", sorted(RELATIONS))
def test_shared_storage_as_pytorch(torch, name):
    same = []
    for m in (sg, torch):
        x = m.arange(6.0).reshape(2, 3)
        y = RELATIONS[name](x)
        same.append(x.untyped_storage().data_ptr() == y.untyped_storage().data_ptr())
    assert same[0] == same[1]


def test_storage_contents_as_pytorch(torch):
    shown = []
    for m in (sg, torch):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float32)
        u = x.untyped_storage()
        with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
            s = x[1].storage()
        shown.append((u.nbytes(), len(u), u.tolist(), s.size(), s.tolist(),
                       s.element_size(), repr(s).replace("symgrad", "torch")))
    assert shown[0] == shown[1]
