"""PSI and KS against a reference histogram, on distributions with known answers."""

import numpy as np
import pytest
from rps_core.drift.stats import ReferenceHistogram, ks_statistic, psi
from rps_core.errors import ModelError


def deciles(sample: np.ndarray) -> ReferenceHistogram:
    # The pointer's format as training writes it: decile edges and the counts between them.
    edges = np.quantile(sample, np.linspace(0, 1, 11))
    counts, _ = np.histogram(sample, bins=edges)
    return ReferenceHistogram.from_pointer("x", {"edges": edges.tolist(), "counts": counts.tolist()})


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.fixture
def normal_ref(rng):
    return deciles(rng.normal(0.0, 1.0, 50_000))


def test_same_distribution_is_stable(normal_ref, rng):
    live = rng.normal(0.0, 1.0, 5_000)
    assert psi(normal_ref, live) < 0.02
    assert ks_statistic(normal_ref, live) < 0.03


def test_a_one_sigma_shift_is_drift(normal_ref, rng):
    live = rng.normal(1.0, 1.0, 5_000)
    # Analytically PSI of N(1,1) vs N(0,1) over deciles is about 0.9; KS is 2*Phi(0.5)-1 = 0.383.
    assert 0.6 < psi(normal_ref, live) < 1.3
    assert ks_statistic(normal_ref, live) == pytest.approx(0.383, abs=0.03)


def test_psi_matches_a_hand_computation():
    ref = ReferenceHistogram(np.array([0.0, 1.0, 2.0]), np.array([50.0, 50.0]))
    live = np.array([0.5] * 80 + [1.5] * 20)
    expected = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert psi(ref, live) == pytest.approx(expected, rel=1e-9)


def test_values_beyond_the_reference_range_count_as_drift():
    ref = ReferenceHistogram(np.array([0.0, 1.0, 2.0]), np.array([50.0, 50.0]))
    # Everything above the training maximum: the open bin has no reference mass, so epsilon keeps it finite.
    value = psi(ref, np.full(100, 5.0))
    assert np.isfinite(value) and value > 5
    assert ks_statistic(ref, np.full(100, 5.0)) == pytest.approx(1.0)
    assert psi(ref, np.array([2.0] * 50 + [0.0] * 50)) == pytest.approx(0.0, abs=1e-12)  # edges are inside


def test_ks_against_a_uniform_reference_is_exact():
    ref = ReferenceHistogram(np.linspace(0.0, 1.0, 11), np.full(10, 100.0))
    live = np.linspace(0.0, 0.5, 1001)  # uniform on [0, 0.5]: the CDFs differ most at the edge 0.5, by 0.5
    assert ks_statistic(ref, live) == pytest.approx(0.5, abs=2e-3)


def test_missing_values_are_ignored_and_an_empty_sample_is_nan(normal_ref):
    assert np.isnan(psi(normal_ref, np.array([np.nan, np.nan])))
    assert np.isnan(ks_statistic(normal_ref, np.array([])))
    with_nan = np.array([0.0, np.nan, 0.1, 0.2])
    assert psi(normal_ref, with_nan) == psi(normal_ref, with_nan[~np.isnan(with_nan)])


def test_fine_bins_merge_into_about_ten_of_equal_mass():
    ref = ReferenceHistogram(np.linspace(0.0, 100.0, 101), np.full(100, 3.0))
    merged = ref.coarsened(10)
    assert merged.counts.tolist() == [30.0] * 10
    assert merged.edges.tolist() == np.linspace(0.0, 100.0, 11).tolist()
    assert ref.coarsened(200) is ref


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"edges": [0, 1]}, "needs numeric"),
        ({"edges": [0, 1], "counts": [1, 2]}, "need counts \\+ 1"),
        ({"edges": [1, 0], "counts": [1]}, "non-decreasing"),
        ({"edges": [0, 1], "counts": [0]}, "positive total"),
    ],
)
def test_a_malformed_reference_is_a_model_error(entry, message):
    with pytest.raises(ModelError, match=message):
        ReferenceHistogram.from_pointer("x", entry)
