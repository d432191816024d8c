"""Thread pools sized to the CPUs a process really has (rps_core.cpus) and training run inside them."""

from __future__ import annotations

import os

import numpy as np
import pytest
from rps_core.cpus import available_cpus, cgroup_cpus, lambda_vcpus, thread_limits
from rps_core.errors import ConfigurationError
from rps_core.training import model as estimator

AFFINITY = len(os.sched_getaffinity(0))
NO_QUOTA = "/nonexistent/cpu.max"


@pytest.mark.parametrize(("memory_mb", "vcpus"), [(128, 1), (1769, 1), (1770, 2), (3008, 2), (3538, 2), (10240, 6)])
def test_lambda_vcpus_follow_memory_size(memory_mb, vcpus):
    assert lambda_vcpus(memory_mb) == vcpus


@pytest.mark.parametrize(
    ("text", "cpus"), [("max 100000", None), ("150000 100000", 1), ("200000 100000", 2), ("", None)]
)
def test_cgroup_quota_in_whole_cpus(tmp_path, text, cpus):
    path = tmp_path / "cpu.max"
    path.write_text(text + "\n")
    assert cgroup_cpus(path) == cpus
    assert cgroup_cpus(tmp_path / "missing") is None


def test_available_cpus_is_the_smallest_limit(tmp_path):
    from pathlib import Path

    none = Path(NO_QUOTA)
    assert available_cpus({}, none) == AFFINITY
    assert available_cpus({"RPS_CPU_SHARE": "1"}, none) == 1
    assert available_cpus({"RPS_CPU_SHARE": "64"}, none) == AFFINITY  # a share cannot add CPUs
    assert available_cpus({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}, none) == 1
    assert available_cpus({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}, none) == min(AFFINITY, 6)
    quota = tmp_path / "cpu.max"
    quota.write_text("100000 100000\n")
    assert available_cpus({}, quota) == 1


@pytest.mark.parametrize("bad", ["two", "0", "-1", "1.5"])
def test_a_bad_share_is_a_named_error(bad):
    with pytest.raises(ConfigurationError, match="RPS_CPU_SHARE"):
        available_cpus({"RPS_CPU_SHARE": bad})


def _openmp_threads() -> set[int]:
    from threadpoolctl import threadpool_info

    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "openmp"}


def test_thread_limits_set_the_openmp_pool_and_restore_it():
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)

    before = _openmp_threads()
    with thread_limits(1) as count:
        assert count == 1 and _openmp_threads() == {1}
    assert _openmp_threads() == before


def test_training_fits_and_predicts_with_the_process_share(monkeypatch):
    from sklearn.ensemble import VotingRegressor

    seen: list[set[int]] = []
    real_fit, real_predict = VotingRegressor.fit, VotingRegressor.predict

    def fit(self, *args, **kwargs):
        seen.append(_openmp_threads())
        return real_fit(self, *args, **kwargs)

    def predict(self, *args, **kwargs):
        seen.append(_openmp_threads())
        return real_predict(self, *args, **kwargs)

    monkeypatch.setattr(VotingRegressor, "fit", fit)
    monkeypatch.setattr(VotingRegressor, "predict", predict)
    # GIVEN a process whose share of the machine is one CPU
    monkeypatch.setenv("RPS_CPU_SHARE", "1")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 4)), rng.normal(size=300)
    # WHEN the model is fitted and used
    model = estimator.fit(x, y, ensemble_size=1, max_iter=5)
    estimator.predict(model, x[:10])
    # THEN both ran with one OpenMP thread
    assert seen == [{1}, {1}]


class _Stat:
    """/proc/stat read twice: first ``before``, then ``after``."""

    def __init__(self, before: str, after: str) -> None:
        self.texts = [before, after]

    def read_text(self) -> str:
        return self.texts.pop(0)


def _stat(busy: dict[int, int], idle: dict[int, int]) -> str:
    cpus = sorted(os.sched_getaffinity(0))
    total = f"cpu  {sum(busy.values())} 0 0 {sum(idle.values())} 0 0 0 0 0 0"
    lines = [f"cpu{c} {busy.get(c, 0)} 0 0 {idle.get(c, 0)} 0 0 0 0 0 0" for c in cpus]
    return "\n".join([total, *lines, "intr 0", "ctxt 0"]) + "\n"


def test_idle_cpus_counts_what_others_left_idle_on_this_process_s_cpus():
    from rps_core.cpus import idle_cpus

    cpus = sorted(os.sched_getaffinity(0))
    # GIVEN one of this process's CPUs kept busy by another process during the sample, the others idle
    before = _stat({c: 0 for c in cpus}, {c: 0 for c in cpus})
    after = _stat({cpus[0]: 100}, {c: 100 for c in cpus[1:]} | {cpus[0]: 0})
    # THEN the idle CPUs are all but one
    assert idle_cpus(0.0, _Stat(before, after)) == pytest.approx(len(cpus) - 1)
    assert idle_cpus(0.0, _Stat("", "")) is None  # nothing measured: no opinion


def test_fit_threads_follow_the_idle_cpus_within_the_budget(monkeypatch):
    from rps_core import cpus

    monkeypatch.setattr(cpus, "idle_cpus", lambda: 0.2)
    assert cpus.fit_threads({}) == 1  # a busy machine: one thread, never zero
    monkeypatch.setattr(cpus, "idle_cpus", lambda: 64.0)
    assert cpus.fit_threads({}) == AFFINITY  # idle CPUs never raise the budget
    monkeypatch.setattr(cpus, "idle_cpus", lambda: None)
    assert cpus.fit_threads({"RPS_CPU_SHARE": "1"}) == 1
