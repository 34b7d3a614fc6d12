"""Trials on a Dask LocalCluster (two worker processes on loopback) match the local run."""

from __future__ import annotations

import pytest

from tui_trader.optimize import optimize

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as lc:
        yield lc


def test_dask_cluster_runs_the_same_trials(strategy, candles, cluster):
    space = ["fast=3:6", "slow=12:20:4"]
    local = optimize(strategy, candles, timeframe="5m", method="grid", space=space, jobs=1)
    remote = optimize(strategy, candles, timeframe="5m", method="grid", space=space,
                      scheduler=cluster.scheduler_address)  # fmt: skip
    assert remote.workers == 2
    assert [(t.params, t.values) for t in remote.trials] == [
        (t.params, t.values) for t in local.trials
    ]
    assert remote.verified is True


def test_dask_tpe_with_a_client_is_seeded(strategy, candles, cluster):
    from distributed import Client

    with Client(cluster) as client:
        runs = [
            optimize(
                strategy, candles, timeframe="5m", method="tpe", trials=20, seed=5, client=client
            )
            for _ in range(2)
        ]
        from tui_trader.optimize.runner import loaded_workloads

        # each worker built one Evaluator (strategy, candles, cache) and reused it for all trials
        per_worker = client.run(loaded_workloads)
        assert len(per_worker) == 2 and max(per_worker.values()) == 1
    assert [t.params for t in runs[0].trials] == [t.params for t in runs[1].trials]


def test_unreachable_scheduler_is_one_clear_error(strategy, candles, monkeypatch):
    from tui_trader.core.errors import UserError
    from tui_trader.optimize import runner

    monkeypatch.setattr(runner, "CONNECT_TIMEOUT", "1s")

    with pytest.raises(UserError, match="cannot reach the Dask scheduler"):
        optimize(strategy, candles, timeframe="5m", method="grid", space=["fast=3:4"],
                 scheduler="tcp://127.0.0.1:9")  # fmt: skip
