"""list_indicators / get_indicator: what the strategy builder offers and resolves."""

from __future__ import annotations

import pandas as pd
import pytest
import talib
from talib import abstract

from tui_trader import indicators as ta
from tui_trader.core.errors import UserError

CUSTOM = {
    "session_vwap",
    "fibonacci_retracements",
    "pivot_points",
    "supertrend",
    "keltner_channels",
    "ichimoku",
    "stoch_rsi",
    "session_ranges",
}


def test_lists_every_talib_function_with_its_group_and_the_custom_ones() -> None:
    infos = ta.list_indicators()
    by_name = {i.name: i for i in infos}
    for group, names in talib.get_function_groups().items():
        for name in names:
            assert by_name[name].group == group and by_name[name].source == "talib"
    assert {i.name for i in infos if i.source == "custom"} == CUSTOM
    assert [(i.group, i.name) for i in infos] == sorted((i.group, i.name) for i in infos)
    assert by_name["BBANDS"].outputs == ("upperband", "middleband", "lowerband")
    assert by_name["BBANDS"].parameters == dict(abstract.Function("BBANDS").info["parameters"])
    assert by_name["supertrend"].parameters == {"period": 10, "multiplier": 3.0}
    assert by_name["ichimoku"].lookahead == ("chikou",)
    assert all(not i.lookahead for i in infos if i.name != "ichimoku")


def test_filters_and_groups() -> None:
    patterns = ta.list_indicators(group="Pattern Recognition")
    assert patterns and all(i.name.startswith("CDL") for i in patterns)
    assert {i.name for i in ta.list_indicators(source="custom")} == CUSTOM
    groups = ta.indicator_groups()
    assert "stoch_rsi" in groups["Momentum Indicators"] and "RSI" in groups["Momentum Indicators"]
    assert groups["Sessions"] == ["session_ranges"]


@pytest.mark.parametrize("info", ta.list_indicators(source="custom"), ids=lambda i: i.name)
def test_custom_outputs_listed_match_what_the_function_returns(candles, info) -> None:
    out = ta.get_indicator(info.name)(candles)
    columns = [out.name] if isinstance(out, pd.Series) else list(out.columns)
    assert tuple(columns) == info.outputs
    assert set(info.inputs) <= {*candles.columns}


def test_get_indicator_resolves_names_and_suggests_on_typos() -> None:
    assert ta.get_indicator("rsi") is ta.RSI
    assert ta.get_indicator("supertrend") is ta.supertrend
    with pytest.raises(UserError, match="did you mean supertrend"):
        ta.get_indicator("supertrnd")
    with pytest.raises(UserError, match="did you mean MACD"):
        ta.get_indicator("MACDD")
