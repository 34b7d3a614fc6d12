"""The router's decision: best expected fill after fees for the size, within balances, split
when cheaper; checked against a brute force over every split."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from tui_trader.core.enums import Side
from tui_trader.routing.plan import Candidate, plan_route

LOT = D("0.0001")


def cand(venue: str, levels: list[tuple[float, float]], fee: float = 0.0005, **kw: object) -> Candidate:
    return Candidate(venue, levels, fee, LOT, symbol="BTC/USDT", **kw)  # type: ignore[arg-type]


def test_a_small_buy_goes_whole_to_the_cheaper_venue() -> None:
    plan = plan_route(
        Side.BUY,
        D("0.1"),
        [cand("a", [(65_010.0, 1.0)]), cand("b", [(65_000.0, 1.0)])],
    )
    assert [(leg.venue, leg.quantity) for leg in plan.legs] == [("b", D("0.1"))]
    assert plan.unrouted == 0


def test_fees_can_make_the_higher_offer_the_better_buy() -> None:
    # 65,000 with a 0.5 % fee costs 65,325; 65,100 with 0.02 % costs 65,113
    cheap = cand("cheap", [(65_000.0, 1.0)], fee=0.005)
    plan = plan_route(Side.BUY, D("0.1"), [cheap, cand("low_fee", [(65_100.0, 1.0)], fee=0.0002)])
    assert [leg.venue for leg in plan.legs] == ["low_fee"]


def test_a_sell_goes_to_the_highest_bid_after_fees() -> None:
    plan = plan_route(Side.SELL, D("0.5"), [cand("a", [(64_990.0, 1.0)]), cand("b", [(64_995.0, 1.0)])])
    assert [(leg.venue, leg.quantity) for leg in plan.legs] == [("b", D("0.5"))]


def test_a_large_order_is_split_where_the_next_level_is_worse_than_the_other_venue() -> None:
    a = cand("a", [(100.0, 1.0), (103.0, 5.0)])
    b = cand("b", [(101.0, 1.0), (104.0, 5.0)])
    plan = plan_route(Side.BUY, D("2.5"), [a, b])
    got = {leg.venue: leg.quantity for leg in plan.legs}
    assert got == {"a": D("1.5"), "b": D("1")}
    assert plan.expected_price() == (100 + 0.5 * 103 + 101) / 2.5
    # without splitting the whole order takes the single best venue's book
    whole = plan_route(Side.BUY, D("2.5"), [a, b], split=False)
    assert [(leg.venue, leg.quantity) for leg in whole.legs] == [("a", D("2.5"))]


def test_balances_cap_each_venue_and_the_rest_goes_elsewhere() -> None:
    # venue a is cheaper but holds money for about 0.3 BTC only
    a = cand("a", [(65_000.0, 5.0)], quote_budget=20_000.0)
    b = cand("b", [(65_050.0, 5.0)], quote_budget=100_000.0)
    plan = plan_route(Side.BUY, D("1"), [a, b])
    got = {leg.venue: leg.quantity for leg in plan.legs}
    assert got["a"] * D("65000") * D("1.0005") <= D("20000")
    assert got["a"] + got["b"] == D("1")


def test_what_no_venue_can_pay_for_stays_unrouted() -> None:
    plan = plan_route(Side.BUY, D("1"), [cand("a", [(65_000.0, 5.0)], quote_budget=6_510.0)])
    # 6,510 buys 0.10011 at 65,000 plus the 0.05 % fee: 0.1001 on the lot
    assert plan.routed == D("0.1001") and plan.unrouted == D("0.8999")


def test_a_sell_never_exceeds_what_a_venue_holds() -> None:
    plan = plan_route(Side.SELL, D("1"), [cand("a", [(65_100.0, 5.0)], max_qty=0.25), cand("b", [(65_000.0, 5.0)])])
    assert {leg.venue: leg.quantity for leg in plan.legs} == {"a": D("0.25"), "b": D("0.75")}


def test_past_the_shown_book_the_best_last_level_takes_the_rest() -> None:
    plan = plan_route(Side.BUY, D("3"), [cand("a", [(100.0, 1.0)]), cand("b", [(100.5, 1.0)])])
    assert plan.routed == D("3") and plan.unrouted == 0
    past = [leg for leg in plan.legs if leg.past_book]
    assert [leg.venue for leg in past] == ["a"]
    assert "(partly past the book)" in plan.describe()


def test_a_limit_order_walks_only_to_its_price_and_rests_the_rest() -> None:
    a = cand("a", [(100.0, 1.0), (102.0, 5.0)])
    b = cand("b", [(100.5, 0.5), (103.0, 5.0)])
    plan = plan_route(Side.BUY, D("3"), [a, b], limit=101.0)
    got = {leg.venue: leg for leg in plan.legs}
    # 1 from a and 0.5 from b are marketable; 1.5 rests on a (the best touch)
    assert got["a"].quantity == D("2.5") and got["a"].past_book
    assert got["b"].quantity == D("0.5")
    assert "2.5 on a ~100.6 (part rests at the limit)" in plan.describe()


def test_a_share_below_a_venue_minimum_is_moved_to_the_other_venue() -> None:
    a = Candidate("a", [(100.0, 0.01), (200.0, 10.0)], 0.0005, LOT, min_notional=5.0, symbol="X")
    b = Candidate("b", [(101.0, 10.0)], 0.0005, LOT, min_notional=5.0, symbol="X")
    plan = plan_route(Side.BUY, D("1"), [a, b])
    assert [(leg.venue, leg.quantity) for leg in plan.legs] == [("b", D("1"))]
    assert "minimum" in plan.excluded["a"]


def test_at_most_max_legs_venues() -> None:
    venues = [cand(f"v{i}", [(100.0 + i * 0.01, 0.1), (200.0, 10.0)]) for i in range(6)]
    plan = plan_route(Side.BUY, D("0.6"), venues, max_legs=3)
    assert len(plan.legs) == 3 and plan.routed == D("0.6")


def test_venues_without_a_book_are_excluded_with_the_reason() -> None:
    plan = plan_route(Side.BUY, D("0.1"), [cand("a", []), cand("b", [(1.0, 1.0)])])
    assert plan.excluded == {"a": "no book"} and plan.legs[0].venue == "b"


# -- against a brute force ------------------------------------------------------------------------

books = st.lists(
    st.tuples(st.integers(0, 40), st.integers(1, 30)),  # (price step, size in tenths)
    min_size=1,
    max_size=5,
)


def _ladder(raw: list[tuple[int, int]], base: float) -> list[tuple[float, float]]:
    price, out = base, []
    for step, size in raw:
        price += step * 0.5
        out.append((price, size / 10))
    return out


def _cost(levels: list[tuple[float, float]], fee: float, qty: float) -> float:
    cost, left = 0.0, qty
    for p, s in levels:
        take = min(s, left)
        cost += take * p
        left -= take
    return cost * (1 + fee) if left <= 1e-9 else float("inf")  # more than the book shows


@given(books, books, st.integers(1, 40), st.sampled_from([0.0, 0.0005, 0.002]), st.sampled_from([0.0, 0.001]))
def test_the_split_is_as_cheap_as_the_best_split_on_a_grid(
    raw_a: list[tuple[int, int]], raw_b: list[tuple[int, int]], tenths: int, fee_a: float, fee_b: float
) -> None:
    a, b = _ladder(raw_a, 100.0), _ladder(raw_b, 100.2)
    depth = sum(s for _, s in a) + sum(s for _, s in b)
    tenths = min(tenths, round(depth * 10))
    qty = tenths / 10
    plan = plan_route(Side.BUY, D(tenths) / 10, [cand("a", a, fee_a), cand("b", b, fee_b)])
    assert plan.routed == D(tenths) / 10 and plan.unrouted == 0
    got = {leg.venue: float(leg.quantity) for leg in plan.legs}
    ours = _cost(a, fee_a, got.get("a", 0.0)) + _cost(b, fee_b, got.get("b", 0.0))
    best = min(_cost(a, fee_a, k / 100) + _cost(b, fee_b, qty - k / 100) for k in range(0, tenths * 10 + 1))
    assert ours <= best + 1e-6
