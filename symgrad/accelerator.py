"""``symgrad.accelerator``: PyTorch's device-agnostic query (``torch.accelerator``), for
programs that pick ``current_accelerator()`` when one is available: none is."""

from __future__ import annotations

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False) -> None:
    return None


def device_count() -> int:
    return 0
