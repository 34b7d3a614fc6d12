"""qtpylib's own results on a candle file, for bench/parity_freqtrade.py to compare ours with.

Runs inside Freqtrade's virtual environment: `python ft_qtpylib.py CANDLES.feather OUT.npz`.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
from parity_qtpylib_calls import CALLS

warnings.simplefilter("ignore")


def main(src: str, dst: str) -> None:
    from technical import qtpylib

    df = pd.read_feather(src)
    out = {}
    for name, call in CALLS.items():
        try:
            result = call(qtpylib, df)
        except Exception as exc:  # recorded: ours must raise too
            out[name] = np.array([f"raised {type(exc).__name__}"])
            continue
        out[name] = np.asarray(result, dtype=float)
    np.savez(dst, **out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
