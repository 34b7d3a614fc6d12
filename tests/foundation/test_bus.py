from datetime import UTC, datetime

from tui_trader.core.events import NoticeEvent, TickerEvent
from tui_trader.core.market import Ticker
from tui_trader.engine.bus import EventBus

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def ticker(symbol: str, last: float) -> TickerEvent:
    return TickerEvent(Ticker("paper", symbol, T0, last - 1, last + 1, last))


def notice(i: int) -> NoticeEvent:
    return NoticeEvent(T0, "info", f"n{i}")


def test_slow_consumer_gets_latest_market_data_and_every_reliable_event() -> None:
    bus = EventBus()
    sub = bus.subscribe("ui")
    for i in range(1000):
        bus.publish(ticker("BTC/USDT", 100 + i))
        bus.publish(ticker("ETH/USDT", 10 + i))
        if i % 100 == 0:
            bus.publish(notice(i))
    events = sub.drain()
    notices = [e for e in events if isinstance(e, NoticeEvent)]
    tickers = {e.ticker.symbol: e.ticker.last for e in events if isinstance(e, TickerEvent)}
    assert [n.message for n in notices] == [f"n{i}" for i in range(0, 1000, 100)]
    assert tickers == {"BTC/USDT": 1099, "ETH/USDT": 1009}
    assert sub.coalesced == 2 * 999


def test_non_coalescing_subscriber_sees_every_tick() -> None:
    bus = EventBus()
    sub = bus.subscribe("candles", kinds={"ticker"}, coalesce=False)
    for i in range(50):
        bus.publish(ticker("BTC/USDT", i))
        bus.publish(notice(i))
    assert [e.ticker.last for e in sub.drain()] == list(range(50))


def test_crashing_handler_never_stalls_the_bus() -> None:
    bus = EventBus()
    seen: list[str] = []

    def bad(event: object) -> None:
        raise RuntimeError("boom")

    bus.on(bad)
    bus.on(lambda e: seen.append(e.kind))
    sub = bus.subscribe("after")
    bus.publish(notice(1))
    assert seen == ["notice"]
    assert len(sub.drain()) == 1


async def test_wait_wakes_on_publish() -> None:
    import asyncio

    bus = EventBus()
    sub = bus.subscribe("w")
    task = asyncio.create_task(sub.wait())
    await asyncio.sleep(0)
    bus.publish(notice(7))
    events = await asyncio.wait_for(task, 10)
    assert events[0].message == "n7"
    sub.close()
    assert await sub.wait() == []
