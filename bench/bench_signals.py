"""Signals benchmark: chat parse rate, news analysis rate, regime on 1 year of 1-minute bars,
decision ranking. Prints figures; run with `.venv/bin/python bench/bench_signals.py`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from tui_trader.core.enums import Direction
from tui_trader.core.signals import Signal
from tui_trader.signals.chat import parse_message
from tui_trader.signals.decision import rank
from tui_trader.signals.news.events import NewsItem, analyse
from tui_trader.signals.regime import classify_regime, current_regime
from tui_trader.signals.settings import DecisionSettings

MESSAGES = [
    "BTC/USDT LONG entry 64000-64500 SL 63000 TP1 66000 TP2 68000",
    "Buy $AAPL @ 190 stop 185 target 200",
    "#ETH short 3200 sl 3350 tp 3000/2900 10x",
    "SOL/USDT buy zone 140 - 142, targets 150, 160, stop loss 135",
    "🚀 btcusdt Long 🟢 Entry: 64k - 64.5k ⛔️ SL: 63k 🎯 TP: 66k, 68k, 70k Leverage: cross 20x",
    "Closing my BTC long here, +12% 💰",
    "Raise the stop on ETH longs to 3,200",
    "Cancel the ETH limit at 3180, not filling",
    "Who else is in the ETH long? 🙋",
    "TSLA puts 🔻 below 240, target 225 stop 248",
]
NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def per_second(fn, n: int) -> tuple[float, float]:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    took = time.perf_counter() - start
    return n / took, took / n * 1e6


def main() -> None:
    rate, us = per_second(lambda i: parse_message(MESSAGES[i % len(MESSAGES)]), 20_000)
    print(f"chat parse:     {rate:,.0f} messages/s ({us:.0f} us each)")

    analyse(NewsItem("warm", "warm up", "", "", NOW, "b"))  # loads the VADER lexicon once
    heads = [
        "Crypto exchange hacked, $200 million in Ethereum stolen",
        "Apple beats estimates on revenue",
        "Powell says the Fed is in no hurry to cut rates",
        "Solana teams up with Visa",
    ]
    rate, us = per_second(
        lambda i: analyse(NewsItem(str(i), heads[i % 4], "", "", NOW, "b")), 5_000
    )
    print(f"news analyse:   {rate:,.0f} items/s ({us:.0f} us each)")

    n = 525_600  # one year of 1-minute bars
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    df = pd.DataFrame({"high": close * 1.0005, "low": close * 0.9995, "close": close})
    start = time.perf_counter()
    classify_regime(df)
    print(f"regime, 1y 1m:  {time.perf_counter() - start:.2f} s for {n:,} bars")
    tail = df.iloc[-2000:]
    start = time.perf_counter()
    for _ in range(100):
        current_regime(tail)
    print(f"regime, last of 2,000 bars: {(time.perf_counter() - start) * 10:.2f} ms per call")

    sources = ["strategy:a", "strategy:b", "ml", "news", "chat:x", "regime"]
    signals = [
        Signal(
            source=sources[i % 6],
            symbol=f"S{i % 50}",
            direction=(Direction.LONG, Direction.SHORT)[i % 2],
            strength=(i % 10) / 10,
            ts=NOW - timedelta(minutes=i % 300),
            timeframe=("1h", "4h")[i % 2],
        )
        for i in range(5_000)
    ]
    settings = DecisionSettings()
    start = time.perf_counter()
    for _ in range(20):
        rank(signals, settings, NOW)
    print(
        f"decision rank:  {(time.perf_counter() - start) / 20 * 1000:.1f} ms "
        "for 5,000 signals / 50 symbols"
    )


if __name__ == "__main__":
    main()
