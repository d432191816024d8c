"""A run tolerates a share of rejected locations: at the share it goes on, above it (or with none left) it
fails with DataQualityError naming the locations and the gate's causes."""

from __future__ import annotations

import pytest
from rps_core.contract import DatasetRef, Failed, Quarantined, TrainRequest
from rps_core.errors import DataQualityError
from rps_core.quality.tolerance import check_tolerated


def _request(passed: int, rejected: int) -> TrainRequest:
    datasets = tuple(DatasetRef(f"OK{i}", "v", "", 24, "", "") for i in range(passed))
    quarantined = tuple(Quarantined(f"BAD{i}", f"quarantine/BAD{i}", f"min_rows (cause {i})") for i in range(rejected))
    return TrainRequest(datasets, quarantined)


def test_at_the_tolerated_share_the_run_goes_on():
    check_tolerated(_request(9, 1), 10.0)  # 10% rejected, 10% tolerated
    check_tolerated(_request(3, 0), 0.0)
    assert _request(9, 1).locations() == {"total": 10, "succeeded": 9, "quarantined": ["BAD0"], "failed": []}


def test_locations_of_failed_map_batches_count_against_the_same_share():
    request = TrainRequest(
        _request(8, 1).datasets, _request(8, 1).quarantined, (Failed("F0", "States.Timeout", "slow"),)
    )
    assert request.locations() == {"total": 10, "succeeded": 8, "quarantined": ["BAD0"], "failed": ["F0"]}
    check_tolerated(request, 20.0)
    with pytest.raises(
        DataQualityError, match=r"2 of 10 locations quarantined or failed \(20.0%.*F0 failed \(States.Timeout\): slow"
    ):
        check_tolerated(request, 10.0)


def test_over_the_tolerated_share_the_run_fails_naming_the_causes():
    with pytest.raises(DataQualityError) as failed:
        check_tolerated(_request(8, 2), 10.0)  # 20% > 10%
    message = str(failed.value)
    assert message.startswith("2 of 10 locations quarantined (20.0%, tolerated 10%)")
    assert "BAD1 rejected by the quality gate: min_rows (cause 1)" in message


def test_with_no_location_left_the_run_fails_whatever_the_tolerance():
    with pytest.raises(DataQualityError, match="1 of 1 locations quarantined"):
        check_tolerated(_request(0, 1), 100.0)


def test_many_causes_are_summarised():
    with pytest.raises(DataQualityError, match="and 2 more"):
        check_tolerated(_request(1, 7), 10.0)
