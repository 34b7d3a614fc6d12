"""Deflated Sharpe ratio and PBO (CSCV) on cases with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui_trader.optimize.overfitting import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    moments,
    overfit_report,
    pbo_cscv,
    probabilistic_sharpe_ratio,
)


def test_deflated_sharpe_matches_the_paper_example():
    # Bailey & López de Prado (2014), section 4: 100 trials, annualized variance of the
    # trials' Sharpe 0.5, five years of daily returns, skew -3, kurtosis 10, SR 2.5 a year.
    sr0 = expected_max_sharpe(100, 0.5 / 250)
    assert sr0 == pytest.approx(0.1132, abs=5e-4)
    dsr = deflated_sharpe_ratio(2.5 / math.sqrt(250), 1250, 100, 0.5 / 250, skew=-3, kurtosis=10)
    assert dsr == pytest.approx(0.9004, abs=2e-3)


def test_psr_is_one_half_at_the_benchmark_and_grows_with_length():
    assert probabilistic_sharpe_ratio(0.1, 0.1, 250) == pytest.approx(0.5)
    short = probabilistic_sharpe_ratio(0.1, 0.0, 50)
    long = probabilistic_sharpe_ratio(0.1, 0.0, 1000)
    assert 0.5 < short < long < 1.0
    # negative skew and fat tails make the same Sharpe less credible
    assert probabilistic_sharpe_ratio(0.1, 0.0, 250, -3, 10) < probabilistic_sharpe_ratio(
        0.1, 0.0, 250
    )


def test_expected_max_sharpe_grows_with_trials_and_is_zero_for_one():
    assert expected_max_sharpe(1, 0.01) == 0.0
    assert expected_max_sharpe(10, 0.01) < expected_max_sharpe(1000, 0.01)


def test_moments_of_a_normal_sample():
    r = np.random.default_rng(0).normal(0.001, 0.01, 200_000)
    sr, skew, kurt = moments(r)
    assert sr == pytest.approx(0.1, abs=0.01)
    assert skew == pytest.approx(0.0, abs=0.05) and kurt == pytest.approx(3.0, abs=0.1)


def test_pbo_is_one_when_the_in_sample_winner_always_loses_out_of_sample():
    # two blocks: A wins block 1 and loses block 2, B the opposite -> every split picks the
    # loser of the other half.
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 0.001, (100, 2))
    a = np.r_[np.full(50, 0.01), np.full(50, -0.01)] + noise[:, 0]
    b = np.r_[np.full(50, -0.01), np.full(50, 0.01)] + noise[:, 1]
    result = pbo_cscv(np.column_stack([a, b]), blocks=2)
    assert result.splits == 2
    assert result.pbo == 1.0


def test_pbo_is_zero_with_one_real_edge_among_noise():
    rng = np.random.default_rng(2)
    m = rng.normal(0, 0.01, (800, 20))
    m[:, 3] += 0.01  # Sharpe ~1 per period: always best, in and out of sample
    result = pbo_cscv(m, blocks=8)
    assert result.splits == math.comb(8, 4)
    assert result.pbo == 0.0


def test_pbo_is_near_one_half_for_pure_noise():
    rng = np.random.default_rng(3)
    pbos = [pbo_cscv(rng.normal(0, 0.01, (320, 30)), blocks=16).pbo for _ in range(4)]
    assert 0.3 < float(np.mean(pbos)) < 0.7


def test_overfit_report_warns_on_lucky_noise_not_on_a_real_edge():
    rng = np.random.default_rng(4)
    noise = [rng.normal(0, 0.01, 365) for _ in range(200)]
    best = max(noise, key=lambda r: moments(r)[0])
    lucky = overfit_report(best, noise)
    assert lucky.warning is not None and lucky.deflated_sharpe < 0.95
    edge = rng.normal(0.004, 0.01, 365)
    honest = overfit_report(edge, [*noise[:20], edge])
    assert honest.warning is None and honest.deflated_sharpe > 0.95 and honest.pbo < 0.5
