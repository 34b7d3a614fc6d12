"""`tui-trader backtest --json` without pandas, when the run allows it (`backtest.arrays`).

Importing pandas costs ~0.3 s, more than half the command's 0.5 s budget; TA-Lib imports it
too unless it is absent (TA-Lib then only loses its pandas wrappers). So the command decides
BEFORE anything imports TA-Lib whether this run can go without pandas, from its arguments and
a look at the rule file (`_rule_file`), imports TA-Lib with pandas hidden, and only then loads
the strategy. Taken when every one of these holds, else the DataFrame path runs the command:

- `--json`; no `--plot`, `--trades-out`, `--export`, `--timeframe-detail`, no Freqtrade config;
- one `--data` file of Parquet or Feather candles with Arrow timestamps (`arrays.readable`);
- `--start`/`--end` as ISO 8601 dates or times, or a `--timerange`;
- the strategy a TOML rule file (by path, or the file a name finds first, as the loader looks)
  with TA-Lib indicators only and no short side, which `strategy.rule_arrays` takes.

A check that only the loaded strategy or the file's columns can answer may still say no
after TA-Lib was imported without pandas: TA-Lib is then given pandas back as its own import
would have (`_give_talib_pandas`) and the DataFrame path runs, in the same process, before
anything was written. Where pandas is already imported (the tests, in process) TA-Lib is
imported as usual.

The run also tunes its process for a short life (each setting says why and what it saved):
the GIL switch interval while it runs (`SWITCH_INTERVAL_S`), NumPy loaded with one OpenBLAS
thread (`_import_numpy_with_one_blas_thread`) and, in its own process only, malloc keeping
what it frees (`_malloc_keeps_freed_memory`). None of them changes a number.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import sys
import tomllib
from pathlib import Path
from typing import Any, NoReturn

PANDAS_ONLY = "_TUI_TRADER_BACKTEST_PANDAS"  # set: always the DataFrame path (and on a rerun)
BLAS_THREADS = "OPENBLAS_NUM_THREADS"
# glibc mallopt(3): M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_ARENA_MAX
_MALLOPT = ((-1, 1 << 30), (-2, 64 << 20), (-3, 32 << 20), (-8, 1))
# The run's threads (the candle file read while TA-Lib and the rules load; the market beside
# the signals; the metrics beside the JSON rows) let go of the GIL in NumPy and Arrow, then
# wait for it while the other thread runs Python: by default up to 5 ms each time, dozens of
# times a run. At 0.5 ms the waits are short (a switch costs microseconds): on a loaded
# machine the command's median fell from 0.81 to 0.69 s (docs/performance-history.md).
SWITCH_INTERVAL_S = 0.0005


def backtest_arrays_cmd(args: argparse.Namespace, ctx: Any) -> int | None:
    """Run the command on arrays and return its exit code, or None: the DataFrame path runs
    it (nothing was printed)."""
    if os.environ.get(PANDAS_ONLY) or not _arguments_allow(args):
        return None
    own_process = "pandas" not in sys.modules  # the command's own (not a test's, nor an app's)
    collecting = gc.isenabled()
    gc.disable()  # ~10 % of the run; a rule strategy's run makes no cycles worth collecting
    interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    code = None
    try:
        code = _arrays_cmd(args, ctx)
        return code
    finally:
        sys.setswitchinterval(interval)
        if collecting and not (own_process and code is not None):
            # Not once the command's own process has written its document: it ends now, and
            # the collector, on again, would start at once on everything the run made (it
            # counted the allocations while off): a full collection, 30-60 ms of the command.
            gc.enable()


def _arrays_cmd(args: argparse.Namespace, ctx: Any) -> int | None:
    path = _rule_file(args.strategy, ctx.home.strategies_dir)  # (imports no NumPy)
    if path is None:  # a Python strategy: the DataFrame path, in a process left as it was
        return None
    # a rule file: its numbers are the same on any BLAS thread count and malloc setting, on
    # this path or, should a later check say no, the DataFrame path's
    if "pandas" not in sys.modules:  # the command's own process (not a test's, nor an app's)
        _malloc_keeps_freed_memory()
    _import_numpy_with_one_blas_thread()
    from tui_trader.backtest.arrays import pending_read, readable, to_ns
    from tui_trader.indicators.talib_lean import import_talib

    start_end = _range(args, to_ns)
    data = Path(args.data[0]).expanduser()
    if start_end is None or not data.is_file() or not readable(data):
        return None
    pending = pending_read(data)  # on a thread, while TA-Lib is imported and the rules compiled
    hidden = import_talib(hook=False)  # pandas comes back only if this run needs it (below)
    found = _arrays_run(args, ctx, path, data, pending)
    if found is None:
        pending.wait()  # the DataFrame path reads the file again, its own way
        if hidden:
            _give_talib_pandas()
        return None
    strategy, symbol, candles, timeframe = found
    return _run(args, ctx, strategy, symbol, candles, timeframe, *start_end)


def _malloc_keeps_freed_memory() -> bool:
    """glibc's malloc keeps what the run frees for its next arrays instead of handing it back
    to the kernel and faulting fresh zeroed pages in again: a year of 1m candles makes dozens
    of 4 MB temporaries (~6,000 page faults, ~20 ms of CPU). Arrays up to 32 MB come from
    the heap (`M_MMAP_THRESHOLD`, glibc's largest), the heap's top is not trimmed and grows
    64 MB at a time. The run's threads (the candle file's read, the month ticks, the metrics)
    share the one heap (`M_ARENA_MAX`): each had its own, and what one freed the others
    could not reuse (~3,500 page faults and ~15 MB more at the peak). Only in the command's
    own process (it ends with the run); a no-op without glibc's `mallopt`. True when malloc
    took every setting."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return all([mallopt(option, value) == 1 for option, value in _MALLOPT])


def _import_numpy_with_one_blas_thread() -> None:
    """Import NumPy with OpenBLAS limited to one thread (unless the user set a count). At load
    OpenBLAS starts a thread per core that spins waiting for work: ~50 ms of CPU taken from
    this run's own two threads on a 2-core machine. The run's one BLAS call (`np.cov` of two
    columns in the metrics, a 2x2 product) gives the same bits on any thread count (the
    subprocess tests compare its document with the DataFrame path's in a process with the
    default). The variable is removed again: nothing this process starts inherits it."""
    if "numpy" in sys.modules or BLAS_THREADS in os.environ:
        return
    os.environ[BLAS_THREADS] = "1"
    try:
        import numpy  # noqa: F401
    finally:
        del os.environ[BLAS_THREADS]


def _arguments_allow(args: argparse.Namespace) -> bool:
    config = getattr(args, "config", None)
    return bool(
        args.json
        and not args.plot
        and not args.trades_out
        and args.export == "none"
        and not args.timeframe_detail
        and not (config and str(config).endswith(".json"))
        and args.data
        and len(args.data) == 1
        and not args.datadir
        and not args.venue
        and args.strategy
    )


def _range(args: argparse.Namespace, to_ns: Any) -> tuple[int | None, int | None] | None:
    """(start, end) in epoch ns, or None when the DataFrame path must read them (anything
    it would refuse, or read in its own way)."""
    from tui_trader.backtest.ftconfig import parse_timerange
    from tui_trader.core.errors import UserError

    start, end = args.start, args.end
    if args.timerange:
        if start or end:
            return None
        try:
            start, end = parse_timerange(args.timerange)
        except UserError:
            return None
    out = [None if value is None else to_ns(value) for value in (start, end)]
    if any(ns is None for ns, value in zip(out, (start, end), strict=True) if value is not None):
        return None
    return out[0], out[1]


def _rule_file(name: str, strategies_dir: Path) -> Path | None:
    """The TOML rule file `--strategy NAME|FILE` loads, when the loader finds one first and
    it declares only TA-Lib indicators and no short side; None otherwise."""
    from tui_trader.indicators.catalog import CUSTOM_NAMES
    from tui_trader.strategy.loader import first_file

    path = first_file(name, [strategies_dir])
    if path is None or path.suffix != ".toml":
        return None
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    indicators = doc.get("indicators", {})
    strategy = doc.get("strategy", {})
    if not isinstance(indicators, dict) or not isinstance(strategy, dict) or strategy.get("can_short"):
        return None
    if any(not isinstance(body, dict) or str(body.get("fn")) in CUSTOM_NAMES for body in indicators.values()):
        return None
    return path


def _give_talib_pandas() -> None:
    """TA-Lib imported with pandas hidden, as if it had seen pandas (`talib_lean.give_pandas`):
    the DataFrame path then runs in this process, for a strategy that calls
    `talib.abstract.RSI(dataframe)` as for any other. With a TA-Lib built otherwise, the
    command runs again in a new process on the DataFrame path (`_rerun`)."""
    from tui_trader.indicators.talib_lean import give_pandas

    if not give_pandas():
        _rerun()


def _rerun() -> NoReturn:
    """Run this command again in a new process on the DataFrame path: only a console run of
    `tui-trader backtest` (anything else calling `main()` would be started again whole)."""
    from tui_trader.core.errors import UserError

    if "backtest" not in sys.argv[1:]:
        raise UserError(f"this TA-Lib cannot take pandas back in process: set {PANDAS_ONLY}=1 and run again")
    os.environ[PANDAS_ONLY] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def _arrays_run(args: argparse.Namespace, ctx: Any, path: Path, data: Path,
                pending: Any) -> tuple[Any, str, Any, str] | None:  # fmt: skip
    """(strategy, symbol, candles, timeframe), loaded as the DataFrame path loads them, or
    None when the loaded strategy or the file's columns need the DataFrame path."""
    from tui_trader.backtest.arrays import import_run_modules, read_candles
    from tui_trader.cli.common import existing_file
    from tui_trader.core.errors import UserError
    from tui_trader.data.filenames import parse_file_name
    from tui_trader.strategy.loader import load_file
    from tui_trader.strategy.rule_arrays import unsupported
    from tui_trader.strategy.rules import RuleStrategy

    try:
        cls = load_file(path)[0]
        strategy = cls(None)
    except (UserError, Exception):  # the DataFrame path reports it, with its hint
        return None
    if not isinstance(strategy, RuleStrategy) or unsupported(strategy) is not None or strategy.can_short:
        return None
    timeframe = args.timeframe or strategy.timeframe
    data = existing_file(str(data), "data file")
    import_run_modules()  # while the file is read
    candles = read_candles(data, timeframe, pending)
    if candles is None:
        return None
    pairs = list(args.pairs or ([args.symbol] if args.symbol else []))
    symbol = (pairs[0] if pairs else None) or parse_file_name(data).symbol or data.stem
    return strategy, symbol, candles, timeframe


def _run(args: argparse.Namespace, ctx: Any, strategy: Any, symbol: str, candles: Any, timeframe: str,
         start: int | None, end: int | None) -> int:  # fmt: skip
    """`_backtest`'s run and `--json` output, on arrays."""
    from tui_trader.backtest.arrays import backtest_arrays
    from tui_trader.backtest.ftconfig import parse_stake
    from tui_trader.cli.common import print_json

    doc = backtest_arrays(
        strategy,
        symbol,
        candles,
        timeframe=timeframe,
        capital=args.capital if args.capital is not None else 10_000.0,
        fee=args.fee if args.fee is not None else 0.001,
        slippage_bps=args.slippage_bps,
        stake_amount=parse_stake(args.stake_amount),
        tradable_balance_ratio=0.99,
        max_open_trades=args.max_open_trades,
        start=start,
        end=end,
        risk=ctx.section("risk"),
        enable_protections=args.enable_protections,
        fill_gaps=not args.keep_gaps,
    )
    print_json(doc)
    # at exit, the heap frozen: the interpreter's collections while it shuts down then skip
    # it (the exit took ~35 ms, ~20 ms with this); nothing is left that a collection must free
    atexit.register(gc.freeze)
    return 0
