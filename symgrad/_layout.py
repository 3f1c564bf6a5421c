"""``layout`` and ``memory_format``: the names PyTorch programs pass and print for how a
tensor is stored. symgrad's tensors are dense numpy arrays, so every tensor is
``strided``; the memory formats are accepted where PyTorch takes them and have no effect."""

from __future__ import annotations

__all__ = ["layout", "strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr",
           "sparse_bsc", "memory_format", "contiguous_format", "channels_last",
           "channels_last_3d", "preserve_format"]


class _Name:
    """A named constant that prints as ``symgrad.<name>`` and unpickles as itself."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"symgrad.{self.name}"

    def __reduce__(self):
        return self.name


class layout(_Name):  # noqa: N801 - PyTorch's name
    """How a tensor's entries are stored (only ``strided`` is used by symgrad)."""


class memory_format(_Name):  # noqa: N801 - PyTorch's name
    """An ordering of a dense tensor's dimensions in memory (accepted, without effect)."""


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
