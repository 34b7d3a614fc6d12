"""Each metric against arithmetic done by hand on tiny series (the sums are in the comments)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tui_trader.analytics.metrics import METRIC_KEYS, compute_metrics, drawdown_series
from tui_trader.core.errors import DataError

DAY = 86_400.0
IDX = pd.date_range("2024-01-01", periods=6, freq="1D", tz="UTC")
# per-bar returns +10 %, -10 %, +10 %, +20 %, -10 %
EQUITY = pd.Series([100.0, 110.0, 99.0, 108.9, 130.68, 117.612], index=IDX)
TRADES = pd.DataFrame(
    {
        "entry_time": [IDX[0], IDX[2], IDX[3]],
        "exit_time": [IDX[2], IDX[3], IDX[5]],
        "pnl": [10.0, -5.0, 20.0],
        "pnl_pct": [0.10, -0.05, 0.15],
        "mfe": [0.12, 0.01, 0.2],
        "mae": [-0.02, -0.06, -0.01],
    }
)
NO_TRADES = TRADES.iloc[0:0]
PPY = 365.0  # 1d bars in a 365-day year


def metrics(**kw: object) -> dict:
    args = {"equity": EQUITY, "trades": TRADES, "timeframe": "1d"} | kw
    return compute_metrics(**args)  # type: ignore[arg-type]


def test_keys_are_exactly_the_contract() -> None:
    assert tuple(metrics()) == METRIC_KEYS
    assert set(METRIC_KEYS) == {
        "total_return", "cagr", "volatility", "sharpe", "sortino", "calmar", "max_drawdown",
        "max_drawdown_duration", "var_95", "cvar_95", "profit_factor", "expectancy", "win_rate",
        "avg_win", "avg_loss", "avg_trade_duration", "exposure", "alpha", "beta", "trades",
    }  # fmt: skip


def test_return_metrics() -> None:
    m = metrics()
    # 117.612 / 100 - 1
    assert m["total_return"] == pytest.approx(0.17612)
    # 5 bars of 1d: (1.17612) ** (365 / 5) - 1
    assert m["cagr"] == pytest.approx(1.17612 ** (365 / 5) - 1)


def test_volatility_sharpe_sortino() -> None:
    m = metrics()
    # mean = (0.1 - 0.1 + 0.1 + 0.2 - 0.1) / 5 = 0.04
    # deviations 0.06, -0.14, 0.06, 0.16, -0.14 -> squares sum 0.072 -> sample var 0.072 / 4
    std = math.sqrt(0.018)
    assert m["volatility"] == pytest.approx(std * math.sqrt(PPY))
    assert m["sharpe"] == pytest.approx(0.04 / std * math.sqrt(PPY))
    # downside deviation: sqrt((0.1^2 + 0.1^2) / 5) = sqrt(0.004)
    assert m["sortino"] == pytest.approx(0.04 / math.sqrt(0.004) * math.sqrt(PPY))


def test_risk_free_rate_is_subtracted_per_bar() -> None:
    m = metrics(risk_free=0.0365)  # 0.0365 / 365 = 0.0001 a bar
    assert m["sharpe"] == pytest.approx((0.04 - 0.0001) / math.sqrt(0.018) * math.sqrt(PPY))


def test_drawdown_metrics() -> None:
    m = metrics()
    # peaks 100, 110, 110, 110, 130.68, 130.68 -> worst 99 / 110 - 1 = -10 %
    assert m["max_drawdown"] == pytest.approx(0.10)
    # peak on day 1, under water days 2-3, back above on day 4: 3 days; the last
    # drawdown (day 4 peak -> day 5 end) lasts 1 day
    assert m["max_drawdown_duration"] == pytest.approx(3 * DAY)
    assert m["calmar"] == pytest.approx((1.17612 ** (365 / 5) - 1) / 0.10)
    dd = drawdown_series(EQUITY)
    assert list(dd.index) == list(IDX)
    assert dd.to_numpy() == pytest.approx([0, 0, -0.1, 108.9 / 110 - 1, 0, 117.612 / 130.68 - 1])


def test_unrecovered_drawdown_runs_to_the_end() -> None:
    idx = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")
    equity = pd.Series([100.0, 90.0, 95.0, 99.0], index=idx)
    m = compute_metrics(equity, NO_TRADES, timeframe="1h")
    assert m["max_drawdown"] == pytest.approx(0.10)
    assert m["max_drawdown_duration"] == pytest.approx(3 * 3600)  # hour 0 peak -> hour 3 end


def test_var_and_cvar_small_sample_use_the_worst_bar() -> None:
    m = metrics()
    # 5 returns: ceil(5 % of 5) = 1 tail bar, the worst: -10 %
    assert m["var_95"] == pytest.approx(0.10)
    assert m["cvar_95"] == pytest.approx(0.10)


def test_var_and_cvar_forty_bars() -> None:
    # 40 returns -> ceil(0.05 * 40) = 2 tail bars: -5 % and -3 %
    returns = np.array([0.01] * 38 + [-0.05, -0.03])
    np.random.default_rng(7).shuffle(returns)
    values = 100.0 * np.concatenate([[1.0], np.cumprod(1 + returns)])
    idx = pd.date_range("2024-01-01", periods=41, freq="1min", tz="UTC")
    m = compute_metrics(pd.Series(values, index=idx), NO_TRADES, timeframe="1m")
    assert m["var_95"] == pytest.approx(0.03)  # the 2nd worst
    assert m["cvar_95"] == pytest.approx(0.04)  # mean of -5 % and -3 %


def test_trade_metrics() -> None:
    m = metrics()
    assert m["trades"] == 3
    assert m["win_rate"] == pytest.approx(2 / 3)
    assert m["profit_factor"] == pytest.approx((10 + 20) / 5)
    assert m["expectancy"] == pytest.approx((0.10 - 0.05 + 0.15) / 3)
    assert m["avg_win"] == pytest.approx((0.10 + 0.15) / 2)
    assert m["avg_loss"] == pytest.approx(-0.05)
    # 2 days + 1 day + 2 days over 3 trades
    assert m["avg_trade_duration"] == pytest.approx(5 * DAY / 3)
    # bars 0,1 (trade 1), 2 (trade 2), 3,4 (trade 3; its exit bar 5 is not held): 5 of 6
    assert m["exposure"] == pytest.approx(5 / 6)


def test_overlapping_trades_count_a_bar_once() -> None:
    trades = pd.DataFrame(
        {
            "entry_time": [IDX[0], IDX[1]],
            "exit_time": [IDX[3], IDX[2]],
            "pnl": [1.0, 1.0],
            "pnl_pct": [0.01, 0.01],
        }
    )
    m = metrics(trades=trades)
    assert m["exposure"] == pytest.approx(3 / 6)  # bars 0, 1, 2
    assert m["profit_factor"] is None  # no losing trade: undefined, not infinite
    assert m["avg_loss"] is None


def test_alpha_beta_against_benchmark() -> None:
    # benchmark returns b = r / 2 + 1 %: 6 %, -4 %, 6 %, 11 %, -4 %
    b = np.array([0.06, -0.04, 0.06, 0.11, -0.04])
    bench = pd.Series(100.0 * np.concatenate([[1.0], np.cumprod(1 + b)]), index=IDX)
    m = metrics(benchmark=bench)
    # cov(r, r/2 + c) / var(r/2 + c) = (var/2) / (var/4) = 2
    assert m["beta"] == pytest.approx(2.0)
    # (mean r - beta * mean b) * 365 = (0.04 - 2 * 0.03) * 365
    assert m["alpha"] == pytest.approx(-0.02 * 365)


def test_buy_and_hold_of_itself_has_beta_one_alpha_zero() -> None:
    m = metrics(benchmark=EQUITY * 3)
    assert m["beta"] == pytest.approx(1.0)
    assert m["alpha"] == pytest.approx(0.0, abs=1e-12)


def test_edge_cases_are_json_safe() -> None:
    flat = pd.Series([100.0] * 5, index=IDX[:5])
    m = compute_metrics(flat, NO_TRADES, timeframe="1d", benchmark=flat)
    json.dumps(m, allow_nan=False)
    assert m["total_return"] == 0.0 and m["cagr"] == 0.0 and m["volatility"] == 0.0
    assert m["sharpe"] is None and m["sortino"] is None and m["calmar"] is None
    assert m["max_drawdown"] == 0.0 and m["max_drawdown_duration"] == 0.0
    assert m["var_95"] == 0.0 and m["cvar_95"] == 0.0
    assert m["alpha"] is None and m["beta"] is None  # a flat benchmark has no variance
    assert m["trades"] == 0 and m["exposure"] == 0.0
    for key in (
        "profit_factor",
        "expectancy",
        "win_rate",
        "avg_win",
        "avg_loss",
        "avg_trade_duration",
    ):
        assert m[key] is None
    one = compute_metrics(flat.iloc[:1], NO_TRADES, timeframe="1d")
    assert one["total_return"] == 0.0 and one["cagr"] is None and one["volatility"] is None
    assert metrics()["alpha"] is None  # no benchmark given


def test_total_loss_and_bad_input() -> None:
    wiped = pd.Series([100.0, 50.0, 0.0], index=IDX[:3])
    m = compute_metrics(wiped, NO_TRADES, timeframe="1d")
    assert m["total_return"] == -1.0 and m["cagr"] == -1.0 and m["max_drawdown"] == 1.0
    with pytest.raises(DataError):
        compute_metrics(pd.Series([100.0, float("nan")], index=IDX[:2]), NO_TRADES, timeframe="1d")
    with pytest.raises(DataError):
        compute_metrics(EQUITY, TRADES.drop(columns=["pnl"]), timeframe="1d")


def test_annualised_by_the_calendar_the_data_spans() -> None:
    """Stock sessions: 7 hourly bars on 252 weekdays is a year of calendar time, not 1,764
    hours; CAGR and volatility are annualised by the time the bars really span."""
    import numpy as np
    import pandas as pd

    from tui_trader.analytics.metrics import metrics_from_arrays, sample_warnings

    days = pd.bdate_range("2024-01-02", periods=252, tz="UTC")
    times = np.array([(d + pd.Timedelta(hours=14 + h)).value for d in days for h in range(7)])
    values = np.linspace(100.0, 110.0, len(times))
    m = metrics_from_arrays(values, times, None, timeframe="1h")
    years = (times[-1] - times[0]) / (365 * 86_400e9)
    assert m["cagr"] == pytest.approx(1.1 ** (1 / years) - 1)
    assert 0.09 < m["cagr"] < 0.11  # 24/7 arithmetic made it several hundred percent
    returns = values[1:] / values[:-1] - 1
    per_year = (len(times) - 1) / years
    assert m["volatility"] == pytest.approx(np.std(returns, ddof=1) * np.sqrt(per_year))
    assert sample_warnings({"trades": 2}) and not sample_warnings({"trades": 30})


@pytest.mark.parametrize("seed", range(6))
def test_the_var_tail_is_the_full_partition_s_values(seed: int) -> None:
    """VaR's tail taken among the negative returns when enough are negative: the same values,
    sorted, as partitioning every return (flat bars, ties, few losses, a tail of every bar)."""
    from tui_trader.analytics.metrics import _smallest

    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 5000))
    values = np.round(rng.normal(0, 1e-3, n), int(rng.integers(3, 9))) * (rng.random(n) < rng.random())
    if seed == 5:
        values = np.abs(values)  # no loss at all
    for count in {1, 2, max(1, n // 20), int((values < 0).sum()), n - 1, n}:
        count = max(1, min(count, n))
        want = np.sort(np.partition(values, count - 1)[:count]) if count < n else np.sort(values)
        assert np.array_equal(np.sort(_smallest(values, count)), want)


def test_returns_less_a_zero_rate_are_the_returns_to_the_bit() -> None:
    """Sharpe, Sortino and alpha subtract the risk-free rate per bar; at 0 the returns are used
    as they are (a pass over every bar saved), the same bits as subtracting 0.0."""
    from tui_trader.analytics.metrics import _less

    values = np.array([-0.0, 0.0, 1e-300, -2.5, np.inf, 3.0])
    assert _less(values, 0.0).tobytes() == (values - 0.0).tobytes()
    assert _less(values, 0.01).tobytes() == (values - 0.01).tobytes()
