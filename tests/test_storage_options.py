"""The storage keywords PyTorch programs pass to factories (``layout``, ``pin_memory``,
``memory_format``) and the layout queries of a tensor, as a CPU-only PyTorch answers."""

import pickle

import pytest

import symgrad as sg

FACTORIES = [("zeros", (2, 3)), ("ones", (2,)), ("empty", (2,)), ("full", ((2,), 1.5)),
             ("eye", (2,)), ("arange", (3,)), ("linspace", (0, 1, 3)), ("rand", (2,)),
             ("randn", (2,)), ("randperm", (3,)), ("randint", (3, (2,)))]
LIKES = ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"]


@pytest.mark.parametrize("name,args", FACTORIES)
def test_factories_take_the_storage_keywords_as_pytorch(torch, name, args):
    for m in (sg, torch):
        out = getattr(m, name)(*args, layout=m.strided, pin_memory=False)
        assert out.layout is m.strided and not out.is_sparse
    outcomes = []
    for m in (sg, torch):
        try:
            getattr(m, name)(*args, memory_format=m.contiguous_format)
            outcomes.append("ok")
        except TypeError as e:
            outcomes.append(("TypeError", "memory_format" in str(e)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("name", LIKES)
def test_like_factories_take_a_memory_format(torch, name):
    for m in (sg, torch):
        x = m.ones(2, 3)
        assert getattr(m, name)(x, memory_format=m.preserve_format).shape == x.shape


def test_pinning_needs_an_accelerator_as_pytorch(torch):
    for m in (sg, torch):
        with pytest.raises(RuntimeError, match="requires a CUDA or other accelerator"):
            m.zeros(2, pin_memory=True)


def test_layout_queries_and_names():
    x = sg.ones(2)
    assert x.layout is sg.strided and repr(sg.strided) == "symgrad.strided"
    assert not (x.is_sparse or x.is_quantized or x.is_meta or x.is_mps or x.is_nested)
    assert x.to_dense() is x and not x.is_distributed()
    assert pickle.loads(pickle.dumps(sg.channels_last)) is sg.channels_last
    with pytest.raises(NotImplementedError, match="dense"):
        sg.zeros(2, layout=sg.sparse_coo)
