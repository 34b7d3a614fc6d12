"""Sub-ledgers: every owner's part sums to the account's position, whatever order the fills of
strategies, people and the kill switch come in, and fees are split without losing a cent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tui_trader.core.enums import Liquidity, Side
from tui_trader.core.fills import Fill
from tui_trader.execution.ledger import SubLedgers
from tui_trader.execution.portfolio import Portfolio

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)
_fill = st.tuples(
    st.sampled_from(["alpha", "beta", None]),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 40),
    st.integers(2900, 3100),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_fill, min_size=1, max_size=40))
def test_parts_sum_to_the_account_and_fees_are_kept(fills: list[tuple[str | None, Side, int, int]]) -> None:
    ledger, account = SubLedgers(), Portfolio()
    for i, (owner, side, tenths, price) in enumerate(fills):
        fill = Fill(
            f"f{i}", f"o{i}", "paper", "ETH/USDT", side, Decimal(tenths) / 10, Decimal(price),
            Decimal("0.37"), "USDT", Liquidity.TAKER, T0,
        )
        account.apply_fill(fill)
        ledger.apply(owner, fill)
        parts = [p for (_, v, s), p in ledger.positions.items() if (v, s) == ("paper", "ETH/USDT")]
        assert sum((p.quantity for p in parts), Decimal(0)) == account.positions[("paper", "ETH/USDT")].quantity
        assert sum((p.fees for p in parts), Decimal(0)) == account.positions[("paper", "ETH/USDT")].fees
    # An unowned fill (a person, the kill switch) closing everything leaves every part flat.
    held = account.positions[("paper", "ETH/USDT")].quantity
    if held:
        close = Fill(
            "close", "k", "paper", "ETH/USDT", Side.SELL if held > 0 else Side.BUY, abs(held), Decimal(3000),
            Decimal(0), "USDT", Liquidity.TAKER, T0,
        )
        ledger.apply(None, close)
        total = sum((p.quantity for p in ledger.positions.values()), Decimal(0))
        assert total == 0


def test_a_manual_close_closes_the_strategies_parts_largest_first() -> None:
    ledger = SubLedgers()

    def fill(side: Side, qty: str, fid: str) -> Fill:
        return Fill(fid, fid, "paper", "ETH/USDT", side, Decimal(qty), Decimal(3000), Decimal(0), "USDT",
                    Liquidity.TAKER, T0)

    ledger.apply("alpha", fill(Side.BUY, "1", "a"))
    ledger.apply("beta", fill(Side.BUY, "3", "b"))
    ledger.apply(None, fill(Side.SELL, "2", "m"))  # a person sells 2 of the 4
    assert ledger.position("beta", "paper", "ETH/USDT").quantity == 1
    assert ledger.position("alpha", "paper", "ETH/USDT").quantity == 1
    assert ledger.position("", "paper", "ETH/USDT").quantity == 0
    assert ledger.owners("paper", "ETH/USDT") == ["alpha", "beta"]
