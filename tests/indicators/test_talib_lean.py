"""TA-Lib imported without pandas (indicators/talib_lean.py), and given pandas back the moment
pandas is imported: each case in a fresh interpreter, since imports are process-wide."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_talib_without_pandas_then_pandas_comes_and_talib_takes_series_and_frames() -> None:
    assert run(
        """
        import sys
        from tui_trader.indicators.talib_lean import import_talib
        hidden = import_talib()
        import numpy as np, talib
        closes = np.linspace(100.0, 120.0, 60) + np.sin(np.arange(60.0))
        arrays = talib.RSI(closes, timeperiod=14)
        print(hidden, "pandas" in sys.modules)
        import pandas as pd  # the hook gives TA-Lib pandas here
        series = talib.RSI(pd.Series(closes, index=range(100, 160)), timeperiod=14)
        print(type(series).__name__, int(series.index[0]), np.allclose(series.to_numpy(), arrays, equal_nan=True))
        import talib.abstract as abstract
        frame = pd.DataFrame({"open": closes, "high": closes + 1, "low": closes - 1, "close": closes, "volume": 1.0})
        print(type(abstract.RSI(frame)).__name__, type(abstract.BBANDS(frame)).__name__)
        print(type(pd.__loader__).__name__ != "_ThenGivePandas", type(pd.__spec__.loader).__name__ != "_ThenGivePandas")
        """
    ) == ["True", "False", "Series", "100", "True", "Series", "DataFrame", "True", "True"]


def test_with_pandas_already_imported_talib_is_imported_as_usual() -> None:
    assert run(
        """
        import pandas as pd, numpy as np
        from tui_trader.indicators.talib_lean import import_talib
        print(import_talib())
        import talib
        print(type(talib.EMA(pd.Series(np.arange(30.0)), timeperiod=5)).__name__)
        """
    ) == ["False", "Series"]


def test_a_talib_whose_internals_are_unknown_is_imported_with_pandas() -> None:
    """Giving pandas back sets TA-Lib 0.8's private names: any other TA-Lib is imported the
    usual way, so it is never left without its pandas support."""
    assert run(
        """
        import sys
        from tui_trader.indicators import talib_lean
        talib_lean.known_talib = lambda: False
        print(talib_lean.import_talib(), "pandas" in sys.modules)
        """
    ) == ["False", "True"]


def test_without_the_hook_pandas_is_given_back_by_the_caller() -> None:
    assert run(
        """
        import sys
        from tui_trader.indicators.talib_lean import give_pandas, import_talib
        print(import_talib(hook=False))
        import numpy as np, pandas as pd, talib
        try:
            talib.RSI(pd.Series(np.arange(30.0)))
        except TypeError:  # not wrapped yet: TA-Lib's C function takes ndarrays only
            print("refused")
        print(give_pandas(), give_pandas())  # twice: the second finds it done
        print(type(talib.RSI(pd.Series(np.arange(30.0)))).__name__)
        """
    ) == ["True", "refused", "True", "True", "Series"]


def test_the_version_read_from_the_dist_info_folder_is_importlib_metadata_s() -> None:
    """TA-Lib's version read from its dist-info folder's name (no importlib.metadata on a
    command's start) is the one importlib.metadata reads; without the folder, that lookup."""
    from importlib.metadata import version

    from tui_trader.indicators import talib_lean

    assert talib_lean._installed_version() == version("TA-Lib")
    assert run(
        """
        import sys
        from tui_trader.indicators import talib_lean
        talib_lean._installed_version = lambda: None
        print(talib_lean.known_talib(), "importlib.metadata" in sys.modules)
        talib_lean._installed_version = lambda: "0.6.4"
        print(talib_lean.known_talib())
        """
    ) == ["True", "True", "False"]
