"""Drop-in for ``freqtrade.vendor.qtpylib.indicators``: a ported strategy changes only its import.

``import freqtrade.vendor.qtpylib.indicators as qtpylib`` becomes
``from tui_trader.indicators import qtpylib``.
"""

from tui_trader.indicators.cross import (
    bollinger_bands,
    crossed,
    crossed_above,
    crossed_below,
    typical_price,
)

__all__ = ["bollinger_bands", "crossed", "crossed_above", "crossed_below", "typical_price"]
