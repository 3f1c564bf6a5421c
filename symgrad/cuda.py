"""``symgrad.cuda``: what PyTorch programs ask of CUDA before choosing a device
(``torch.device("cuda" if torch.cuda.is_available() else "cpu")``). symgrad runs on the
CPU only: nothing is available, seeding is a no-op, and asking for a device is PyTorch's
error on a build without CUDA."""

from __future__ import annotations

from typing import Any

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all",
           "synchronize", "empty_cache", "current_device", "get_device_name", "set_device"]

_NO_CUDA = "Torch not compiled with CUDA enabled (symgrad runs on the CPU only)"


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """No CUDA generator to seed (PyTorch too ignores this without CUDA)."""


def manual_seed_all(seed: int) -> None:
    """No CUDA generator to seed."""


def synchronize(device: Any = None) -> None:
    """Nothing runs asynchronously."""


def empty_cache() -> None:
    """No device memory is cached."""


def current_device() -> int:
    raise AssertionError(_NO_CUDA)


def get_device_name(device: Any = None) -> str:
    raise AssertionError(_NO_CUDA)


def set_device(device: Any) -> None:
    raise AssertionError(_NO_CUDA)
