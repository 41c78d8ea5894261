"""How a block's coordinates are coupled (hiergraph.coupling): the split of fixed from
random effects, and the envelope layout of the precision with the compiled kernels that
factor and solve with it (hiergraph.jit.envelope, hiergraph.jit.scalar), against numpy."""

import numpy as np
import pytest
from scipy import sparse

from hiergraph.coupling import split


def arrow_pattern(subjects: int, visits: int, fixed: int) -> sparse.csr_matrix:
    """epil's model III: each row reads the fixed effects, its subject's effect and its own."""
    d = fixed + subjects + subjects * visits
    rows = []
    for j in range(subjects):
        for k in range(visits):
            rows.append(list(range(fixed)) + [fixed + j, fixed + subjects + visits * j + k])
    pattern = sparse.lil_matrix((len(rows), d))
    for r, cols in enumerate(rows):
        pattern[r, cols] = 1
    return pattern.tocsr()


def random_pattern(rng, rows: int, d: int, density: float) -> sparse.csr_matrix:
    pattern = sparse.random(rows, d, density=density, random_state=rng, format="lil")
    pattern[np.arange(rows), rng.integers(d, size=rows)] = 1  # no empty row
    return sparse.csr_matrix(pattern)


def precision_of(rng, pattern: sparse.csr_matrix) -> np.ndarray:
    """A positive definite ``diag(prior) + X' W X`` with the pattern's coupling."""
    x = pattern.toarray() * rng.normal(size=pattern.shape)
    return np.diag(rng.uniform(0.5, 2.0, pattern.shape[1])) + x.T @ np.diag(rng.uniform(0.1, 3.0, len(x))) @ x


def packed(matrix: np.ndarray, layout) -> np.ndarray:
    """The lower envelope of ``matrix`` (in coordinate order) in the layout's order, flat."""
    return in_envelope(matrix[np.ix_(layout.order, layout.order)], layout)


def in_envelope(reordered: np.ndarray, layout) -> np.ndarray:
    return np.concatenate([reordered[i, layout.first[i]:i + 1] for i in range(len(layout.order))])


def test_split_separates_the_fixed_effects_from_the_subjects():
    border, inside = split(arrow_pattern(subjects=59, visits=4, fixed=7))
    assert border.tolist() == list(range(7))
    assert inside.tolist() == list(range(7, 7 + 59 + 59 * 4))


def test_no_split_where_all_are_coupled_or_none_is_coupled_to_many():
    assert split(sparse.csr_matrix(np.ones((5, 9)))) is None  # one regression
    assert split(sparse.csr_matrix(np.kron(np.eye(20), np.ones((2, 3))))) is None  # pieces already
    # a chain couples each coordinate to two: no small border leaves small pieces
    chain = sparse.csr_matrix(np.eye(40, 41) + np.eye(40, 41, 1))
    assert split(chain) is None


def kernels():
    pytest.importorskip("numba")
    from hiergraph.jit import envelope, scalar
    return envelope, scalar


def test_arrow_puts_the_fixed_effects_last_and_costs_linear_work():
    envelope, _ = kernels()
    pattern = arrow_pattern(subjects=59, visits=4, fixed=7)
    layout = envelope.envelope(pattern)
    assert set(layout.order[-7:].tolist()) == set(range(7))
    coupled = ((pattern.T @ pattern) != 0).tocsr()
    dense = envelope._cost(envelope._layout(coupled, np.arange(pattern.shape[1])))
    assert envelope._cost(layout) * 100 < dense
    # every coupled pair lies inside the envelope, so the factor's fill does too
    position = layout.position
    rows, cols = coupled.nonzero()
    low, high = np.minimum(position[rows], position[cols]), np.maximum(position[rows], position[cols])
    assert np.all(layout.first[high] <= low)


@pytest.mark.parametrize("case", ["arrow", "random", "dense"])
def test_cholesky_and_solves_match_numpy(case):
    envelope, scalar = kernels()
    rng = np.random.default_rng(7)
    pattern = {"arrow": lambda: arrow_pattern(6, 3, 2),
               "random": lambda: random_pattern(rng, 40, 25, 0.08),
               "dense": lambda: sparse.csr_matrix(np.ones((5, 9)))}[case]()
    h = precision_of(rng, pattern)
    layout = envelope.envelope(pattern)
    factor = packed(h, layout)
    assert scalar.cholesky(factor, layout.first, layout.start)
    expected = np.linalg.cholesky(h[np.ix_(layout.order, layout.order)])
    np.testing.assert_allclose(factor, in_envelope(expected, layout), rtol=1e-10, atol=1e-12)

    b = rng.normal(size=len(h))
    forward = np.empty_like(b)
    scalar.forward_solve(factor, layout.first, layout.start, layout.order, b, forward)
    back = forward.copy()  # in place, as the generated code calls it
    scalar.backward_solve(factor, layout.first, layout.start, layout.order, back, back)
    np.testing.assert_allclose(back, np.linalg.solve(h, b), rtol=1e-9)

    z = rng.normal(size=len(h))
    drawn = np.empty_like(b)
    assert scalar.gaussian_draw(packed(h, layout), layout.first, layout.start, layout.order, b, z, drawn)
    offset = drawn - np.linalg.solve(h, b)  # L^-T z: its H-norm is the norm of z
    np.testing.assert_allclose(offset @ h @ offset, z @ z, rtol=1e-9)


def test_cholesky_refuses_an_indefinite_matrix():
    envelope, scalar = kernels()
    pattern = arrow_pattern(3, 2, 1)
    layout = envelope.envelope(pattern)
    h = precision_of(np.random.default_rng(1), pattern)
    h[-1, -1] = -1.0
    assert not scalar.cholesky(packed(h, layout), layout.first, layout.start)
