"""symgrad.Generator: an independent, seedable random stream passed as ``generator=``."""

import pytest

import symgrad as sg

DRAWS = {
    "randn": lambda g: sg.randn(3, generator=g),
    "rand": lambda g: sg.rand(2, 2, generator=g),
    "randint": lambda g: sg.randint(0, 9, (4,), generator=g),
    "randperm": lambda g: sg.randperm(6, generator=g),
    "normal": lambda g: sg.normal(0.0, 1.0, (3,), generator=g),
    "bernoulli": lambda g: sg.bernoulli(sg.full((4,), 0.5), generator=g),
    "multinomial": lambda g: sg.multinomial(sg.ones(5), 3, generator=g),
    "uniform_": lambda g: sg.empty(3).uniform_(generator=g),
    "normal_": lambda g: sg.empty(3).normal_(generator=g),
    "exponential_": lambda g: sg.empty(3).exponential_(generator=g),
    "random_": lambda g: sg.empty(3).random_(0, 10, generator=g),
    "init.kaiming_uniform_": lambda g: sg.nn.init.kaiming_uniform_(sg.empty(2, 3), generator=g),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_a_seeded_generator_repeats_and_leaves_the_default_stream_alone(name):
    draw = DRAWS[name]
    g = sg.Generator().manual_seed(7)
    first = draw(g)
    g.manual_seed(7)
    assert sg.equal(first, draw(g)) and g.initial_seed() == 7
    sg.manual_seed(0)
    a = sg.randn(4)
    sg.manual_seed(0)
    draw(g)
    assert sg.equal(a, sg.randn(4))          # the default stream did not move


def test_state_round_trip_and_data_utilities():
    g = sg.Generator().manual_seed(3)
    state = g.get_state()
    u = sg.rand(5, generator=g)
    g.set_state(state)
    assert sg.equal(u, sg.rand(5, generator=g))
    ds = sg.utils.data.TensorDataset(sg.arange(10.0))
    splits = [[list(s.indices) for s in sg.utils.data.random_split(
        ds, [0.7, 0.3], generator=sg.Generator().manual_seed(42))] for _ in range(2)]
    assert splits[0] == splits[1] and sorted(sum(splits[0], [])) == list(range(10))
    loads = [[b[0].tolist() for b in sg.utils.data.DataLoader(
        ds, batch_size=4, shuffle=True, generator=sg.Generator().manual_seed(1))]
        for _ in range(2)]
    assert loads[0] == loads[1]
    with pytest.raises(TypeError, match="generator must be a symgrad.Generator"):
        sg.randn(2, generator=3)
