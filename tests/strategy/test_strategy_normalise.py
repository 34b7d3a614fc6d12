"""analyze's tag columns: None for "no tag" whatever the strategy wrote (NaN, NA, "", None),
the tags themselves untouched, in every dtype pandas gives a column assigned with .loc."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_trader.strategy.analysis import SIGNAL_COLUMNS, TAG_COLUMNS, _normalise

TAGS = ["a", None, "", "b", float("nan"), "a"]
WANT = ["a", None, None, "b", None, "a"]


def frame(tags: pd.Series) -> pd.DataFrame:
    df = pd.DataFrame({c: np.zeros(len(tags), dtype="int8") for c in SIGNAL_COLUMNS})
    df["enter_tag"] = tags
    df["exit_tag"] = pd.Series([None] * len(tags), dtype=object)
    return df


@pytest.mark.parametrize(
    "tags",
    [
        pd.Series(TAGS, dtype=object),
        pd.Series(TAGS, dtype="str"),
        pd.Series(TAGS, dtype="string"),
        pd.Series(["a", pd.NA, "", "b", pd.NA, "a"], dtype=object),
    ],
    ids=["object", "str", "string", "object-NA"],
)
def test_no_tag_is_none_and_tags_stay(tags: pd.Series) -> None:
    out = _normalise(frame(tags))
    for col in TAG_COLUMNS:
        assert out[col].dtype == object
    assert out["enter_tag"].tolist() == WANT
    assert out["exit_tag"].tolist() == [None] * len(TAGS)


def test_a_clean_object_column_is_left_as_it_is() -> None:
    df = frame(pd.Series(WANT, dtype=object))
    before = df["enter_tag"]
    out = _normalise(df)
    assert out["enter_tag"] is before or out["enter_tag"].tolist() == WANT
    untagged = _normalise(frame(pd.Series([float("nan")] * 4, dtype=object)))
    assert untagged["enter_tag"].tolist() == [None] * 4
    assert _normalise(frame(pd.Series(["x", 3, None], dtype=object)))["enter_tag"].tolist() == ["x", 3, None]
