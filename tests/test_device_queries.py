"""What programs ask before choosing a device, answered as a CPU-only PyTorch build does."""

import pytest

import symgrad as sg


QUERIES = [
    lambda m: m.cuda.is_available(), lambda m: m.cuda.device_count(),
    lambda m: m.backends.mps.is_available(), lambda m: m.backends.cudnn.enabled,
    lambda m: m.accelerator.is_available(), lambda m: m.accelerator.current_accelerator(),
    lambda m: str(m.device("cuda" if m.cuda.is_available() else "cpu")),
    lambda m: m.cuda.manual_seed_all(0),
]


@pytest.mark.parametrize("k", range(len(QUERIES)))
def test_queries_as_a_cpu_build_of_pytorch(torch, k):
    if torch.cuda.is_available():
        pytest.skip("this PyTorch has CUDA")
    assert QUERIES[k](sg) == QUERIES[k](torch)


def test_cuda_only_calls_fail_and_switches_are_kept():
    with pytest.raises(AssertionError, match="not compiled with CUDA"):
        sg.cuda.current_device()
    sg.backends.cudnn.deterministic = True
    assert sg.backends.cudnn.deterministic is True
    sg.backends.cudnn.deterministic = False


def test_compile_returns_what_it_is_given():
    f = lambda x: x * 2  # noqa: E731
    assert sg.compile(f) is f
    assert sg.compile(mode="reduce-overhead")(f) is f
    net = sg.nn.Linear(2, 1)
    assert sg.compile(net) is net
