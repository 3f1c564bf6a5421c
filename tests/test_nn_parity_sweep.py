"""symgrad.nn.functional and symgrad.nn modules against PyTorch, case by case from the
sweep tables (tests/nn_parity_sweep.py, tests/nn_module_parity_sweep.py): values,
gradients, second derivatives, node names along next_functions, float32 dtypes, misuse
errors; for modules also repr, state_dict keys, train/eval outputs and buffers."""

import re

import pytest

import nn_module_parity_sweep as msweep
import nn_parity_sweep as sweep

# the deprecated calls (upsample, kl_div's "mean", ...) warn in both libraries alike
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning",
                                        "ignore::DeprecationWarning")

# Differences kept for now: case name -> the aspects not compared, and why.
_COMPOSED = "PyTorch records one fused node here; symgrad composes recorded ops"
KNOWN = {
    "bilinear": ({"edges"}, "PyTorch: TrilinearBackward0 under views; symgrad one einsum"),
    "bilinear[nobias]": ({"names", "edges"}, "PyTorch: TrilinearBackward0; symgrad einsum"),
    "linear[nobias]": ({"edges"}, "PyTorch folds a 3-d input to mm; symgrad one matmul node"),
    "cosine_similarity": ({"edges"}, "on purpose: PyTorch clamps cloned norms in place, "
                          "which a mirror replay cannot see; symgrad records the clamp"),
    "cosine_similarity[dim0]": ({"edges"}, "as cosine_similarity"),
    "cosine_similarity[zero row]": ({"edges", "second"}, "as cosine_similarity; at a zero "
                                    "vector PyTorch's second derivative is nan (its norm's "
                                    "0/0), symgrad's the finite one of x / eps"),
    "pad[circular]": ({"edges"}, "PyTorch writes circular padding through CopySlices chains"),
    "pad[circular2d]": ({"edges"}, "as pad[circular]"),
    "pad[circular3d]": ({"edges"}, "as pad[circular]"),
    "smooth_l1_loss[beta0]": ({"edges"}, "PyTorch takes l1_loss there: as l1_loss below"),
    "embedding[scale_grad_by_freq]": ({"forward", "names", "edges", "grad", "f32"},
                                      "not supported (NotImplementedError): its gradient is "
                                      "no derivative of the forward, so no rule could agree "
                                      "with the SymPy mirror"),
    "scaled_dot_product_attention": ({"edges"}, "PyTorch's math kernel uses bmm on views"),
    "scaled_dot_product_attention[causal]": ({"edges"}, "as scaled_dot_product_attention"),
}
for _r in ("mean", "sum", "none"):
    KNOWN[f"l1_loss[{_r}]"] = ({"edges"}, "symgrad's one l1 node has both inputs as edges; "
                                          "PyTorch's abs node has a SubBackward0 edge")


@pytest.fixture(scope="module")
def torch_sweep(torch):
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(n)


@pytest.mark.parametrize("case", sweep.CASES, ids=lambda c: c.name)
def test_functional_matches_torch(torch_sweep, case):
    skip = KNOWN.get(case.name, (set(), ""))[0]
    diffs = {k: v for k, v in sweep.compare(case).items() if k not in skip}
    assert not diffs, diffs


def test_known_differences_are_still_there(torch_sweep):
    """A difference fixed later must leave KNOWN (so the table stays true)."""
    by_name = {c.name: c for c in sweep.CASES}
    for name, (aspects, _) in KNOWN.items():
        assert set(sweep.compare(by_name[name])) == aspects, name


def _gist(message: str) -> str:
    return re.sub(r"\btorch\.", "symgrad.", message)[:40]


@pytest.mark.parametrize("misuse", sweep.MISUSES, ids=lambda u: u.name)
def test_misuse_raises_as_torch(torch_sweep, misuse):
    ours, theirs = sweep.misuse_outcome("symgrad", misuse), sweep.misuse_outcome("torch", misuse)
    assert theirs is not None and ours is not None
    assert ours[0] == theirs[0], (ours, theirs)
    if not misuse.name.startswith("max_pool2d"):   # symgrad names the op first there
        assert _gist(theirs[1]) in ours[1], (ours, theirs)


@pytest.mark.parametrize("case", msweep.MODULES, ids=lambda c: c.name)
def test_module_matches_torch(torch_sweep, case):
    assert not msweep.compare_module(case)


@pytest.mark.parametrize("case", msweep.MODULE_MISUSES, ids=lambda c: c.name)
def test_module_misuse_raises_as_torch(torch_sweep, case):
    ours = msweep.module_misuse_outcome("symgrad", case)
    theirs = msweep.module_misuse_outcome("torch", case)
    assert theirs is not None and ours is not None
    assert ours[0] == theirs[0], (ours, theirs)
    if not case.name.startswith("MaxPool2d"):   # symgrad names the op first there
        assert _gist(theirs[1]) in ours[1], (ours, theirs)


def test_sweep_counts_cover_functional_api(torch_sweep):
    """Every torch.nn.functional function symgrad has appears in the sweep."""
    import torch.nn.functional as TF

    import symgrad.nn.functional as F

    covered = {c.name.split("[")[0] for c in sweep.CASES}
    shared = {n for n in dir(TF) if not n.startswith("_") and callable(getattr(TF, n))
              and hasattr(F, n) and getattr(getattr(TF, n), "__module__", "") and n != "Tensor"}
    random_only = {"gumbel_softmax", "rrelu_", "rrelu"}   # no deterministic torch match
    # compared with PyTorch in their own files: tests/test_nn_grid.py, tests/test_nn_ctc.py
    separately = {"affine_grid", "grid_sample", "ctc_loss"}
    missing = shared - covered - random_only - separately - {n + "_" for n in covered}
    assert not missing, sorted(missing)
