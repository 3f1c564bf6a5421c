"""The programs of autograd_api_programs.py give the same outcome in symgrad as in
PyTorch: values, hook call logs, exception types and chosen messages."""

import warnings

import pytest

import symgrad as sg

from autograd_api_programs import PROGRAMS, outcome, same


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_agrees_with_pytorch(torch, name):
    fn = PROGRAMS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, got = outcome(torch, fn), outcome(sg, fn)
    assert same(expected, got), f"{name}:\n  torch:   {expected}\n  symgrad: {got}"


def test_the_table_is_large_and_covers_each_area():
    prefixes = {"packs_", "multi_hook_", "grad_", "backward_inputs_", "function_", "node_",
                "anomaly_", "variable_", "disable_", "setup_context_", "increment_version_"}
    assert len(PROGRAMS) >= 200
    for p in prefixes:
        assert sum(n.startswith(p) for n in PROGRAMS) >= 2, p
