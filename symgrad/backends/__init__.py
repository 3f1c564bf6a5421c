"""``symgrad.backends``: PyTorch's backend switches that programs read or set
(``torch.backends.mps.is_available()``, ``torch.backends.cudnn.deterministic = True``).
No such backend exists here: queries say so, and flags are kept as plain attributes."""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["mps", "cudnn", "cuda", "mkldnn", "openmp"]


def _false() -> bool:
    return False


def _true() -> bool:
    return True


mps = SimpleNamespace(is_available=_false, is_built=_false)
cudnn = SimpleNamespace(is_available=_false, enabled=True, deterministic=False, benchmark=False,
                        allow_tf32=True, version=lambda: None)
cuda = SimpleNamespace(is_built=_false,
                       matmul=SimpleNamespace(allow_tf32=False,
                                              allow_fp16_reduced_precision_reduction=True))
mkldnn = SimpleNamespace(is_available=_false, enabled=True)
openmp = SimpleNamespace(is_available=_true)
