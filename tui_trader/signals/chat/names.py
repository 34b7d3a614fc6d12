"""Market names chat channels use beyond the shared list (signals/symbols.py): index CFDs,
the CFD spellings of oil, and more widely traded tickers. A ticker that is also an English
word counts only in capitals ("ARM", not "arm")."""

from __future__ import annotations

# Index CFDs and futures, as forex channels write them (capitals only: "ES", "NQ").
INDICES = frozenset(
    "NAS100 US30 SPX500 US500 US100 USTEC GER40 GER30 DE40 DE30 UK100 JP225 SPX NDX NQ ES YM RTY".split()  # noqa: SIM905
)
# CFD spellings of commodities -> the instrument the shared list uses for the name.
CFD_NAMES = {
    "usoil": "WTICO/USD",
    "xtiusd": "WTICO/USD",
    "wtiusd": "WTICO/USD",
    "ukoil": "BCO/USD",
    "xbrusd": "BCO/USD",
    "xngusd": "NATGAS/USD",
}
# More tickers read as a bare word (the shared list holds the largest ones).
_TICKERS = """
ARM SOFI DKNG RIVN LCID NIO BABA DIS NKE BA KO PEP COST SNOW CRWD PANW DDOG MDB ROKU SQ AFRM
UPST SNAP PINS RBLX CVNA TSM ASML MU QCOM TXN AMAT LRCX MRVL SMH SOXL TQQQ SQQQ UVXY VIX XLE XLF
TLT GLD SLV USO ARKK CVX OXY LLY NVO UNH PFE MRNA JNJ GS WFC SCHW IONQ RKLB ASTS CELH ENPH FSLR
XMR EOS XTZ HNT KAVA ZIL ENS GMX DYDX BLUR CFX RUNE THETA EGLD QNT FLR STRK ZRO JTO ONDO PENDLE
ETHFI AEVO MANTA DYM TNSR AKT MNT BRETT POPCAT FLOKI BOME JASMY CHZ AXS MANA ENJ SNX YFI SUSHI
BSV ZEC NEO IOTA KSM CKB SSV RPL LPT TRB ARKM MINA CELO IOTX RSR ONT QTUM RVN BTT
"""
CAPITALS_ONLY = frozenset({"ARM", "DIS", "BA", "KO", "PEP", "COST", "SNOW", "SNAP", "PINS", "MU", "GS", "NEO"})
TICKERS = frozenset(_TICKERS.split())
