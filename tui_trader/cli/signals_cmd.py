"""`tui-trader signals ...`: parse chat signals; train, predict and list direction models.

To add a sub-command, write `_add_<name>(inner)` that builds its parser with
`add_command(inner, ...)` and append it to SUBCOMMANDS.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from tui_trader.cli.common import add_command, context, print_json
from tui_trader.core.errors import UsageError

SubParsers = argparse._SubParsersAction


def register(sub: SubParsers) -> None:
    parser = add_command(sub, "signals", "AI signals: parse chat trade signals, train and predict")
    inner = parser.add_subparsers(
        dest="signals_command", metavar="SUBCOMMAND", parser_class=type(parser)
    )
    for add in SUBCOMMANDS:
        add(inner)
    names = ", ".join(inner.choices)

    def no_subcommand(args: argparse.Namespace) -> int:
        raise UsageError(
            f"signals: choose a sub-command ({names}); see `tui-trader signals --help`"
        )

    parser.set_defaults(handler=no_subcommand)


# ---- parse -------------------------------------------------------------------


def _add_parse(inner: SubParsers) -> None:
    p = add_command(
        inner, "parse", "read a chat trade signal and print its fields", _parse, json_flag=True
    )
    p.add_argument(
        "text", nargs="+", metavar="TEXT", help="the message (quote it, or pass it as words)"
    )
    p.add_argument(
        "--symbols", default=None, help="comma-separated known symbols, e.g. BTC/USDT,ETH/USDT,AAPL"
    )


def _parse(args: argparse.Namespace) -> int:
    from tui_trader.signals.chat import parse_message

    text = " ".join(args.text)
    if not text.strip():
        raise UsageError("signals parse: the message is empty; pass it quoted, e.g. 'BTC long 64000 sl 63000'")
    known = [s.strip() for s in args.symbols.split(",") if s.strip()] if args.symbols else None
    d = parse_message(text, known_symbols=known).as_dict()
    if getattr(args, "json", False):
        print_json(d)
        return 0
    for name, value in _parse_rows(d):
        print(f"{name:<11} {value}")
    for reason in d["reasons"]:
        print(f"{'note':<11} {reason}")
    return 0


def _parse_rows(d: dict[str, Any]) -> list[tuple[str, str]]:
    """The fields that matter for the message's kind, as a trader reads them."""
    kind = d["kind"]
    symbol = d["symbol"] or ("every position of the provider" if d["all_symbols"] else "-")
    if kind == "cancel" and d["all_symbols"]:
        symbol = "every pending order of the provider"
    rows = [("kind", kind), ("symbol", symbol)]
    if kind == "entry":
        entry = " - ".join(d["entry"]) or "market"
        rows += [
            ("side", f"{d['side']} ({d['direction']})"),
            ("entry", f"{entry} ({d['entry_type']})"),
            ("stop", d["stop"] or "-"),
            ("targets", ", ".join(d["targets"]) or "-"),
            ("leverage", f"{d['leverage']}x" if d["leverage"] else "-"),
            ("R (TP1)", "-" if d["risk_reward"] is None else f"{d['risk_reward']:.2f}"),
        ]
    elif kind in ("exit", "update", "cancel"):
        if d["direction"] != "flat":
            rows.append(("position", d["direction"]))
        if kind == "exit":
            fraction = d["fraction"]
            rows.append(("close", "? (not said)" if fraction is None else f"{float(fraction) * 100:g} %"))
        stop = "breakeven (the entry price)" if d["breakeven"] else d["stop"]
        if kind != "cancel" and (stop or kind == "update"):
            rows.append(("new stop", stop or "-"))
        if kind == "update":
            rows.append(("new targets", ", ".join(d["targets"]) or "-"))
    if kind in ("info", "unsupported"):
        return rows
    return [*rows, ("confidence", f"{d['confidence']:.2f}")]


# ---- train / predict / models (the learned direction model) --------------------


def _add_data_options(p: argparse.ArgumentParser, *, symbol_required: bool) -> None:
    p.add_argument("--data", metavar="FILE", help="candle file (CSV, Parquet, Freqtrade)")
    p.add_argument("--venue", help="read stored candles of this venue (see `tui-trader data list`)")
    p.add_argument("--symbol", help="market symbol, e.g. BTC/USDT")
    p.add_argument("--timeframe", required=True, help="bar length, e.g. 5m, 1h")


def _add_train(inner: SubParsers) -> None:
    p = add_command(
        inner,
        "train",
        "train the direction model with purged walk-forward validation and register it",
        _train,
        json_flag=True,
    )
    _add_data_options(p, symbol_required=True)
    p.add_argument("--horizon", type=int, default=4, help="predict the next N candles (default 4)")
    p.add_argument(
        "--dead-zone",
        type=float,
        default=0.0,
        help="ignore moves smaller than this fraction when labelling (default 0)",
    )
    p.add_argument("--folds", type=int, default=5, help="walk-forward folds (default 5)")
    p.add_argument("--max-iter", type=int, default=150, help="boosting rounds (default 150)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _add_predict(inner: SubParsers) -> None:
    p = add_command(
        inner, "predict", "the latest model's call on the last candle", _predict, json_flag=True
    )
    _add_data_options(p, symbol_required=False)
    p.add_argument("--model", metavar="ID", help="model id (default: the latest for the symbol)")


def _add_models(inner: SubParsers) -> None:
    add_command(inner, "models", "list the trained models in HOME/models", _models, json_flag=True)


def _load_candles(args: argparse.Namespace, home: Any) -> tuple[Any, str]:
    """(candles, symbol) from --data FILE or --venue V --symbol S."""
    if bool(args.data) == bool(args.venue):
        raise UsageError(
            f"signals {args.signals_command}: pass either --data FILE or --venue V --symbol S"
        )
    if args.data:
        from tui_trader.data.loaders import load_ohlcv

        df = load_ohlcv(args.data, timeframe=args.timeframe, symbol=args.symbol)
        symbol = args.symbol or df.attrs.get("symbol")
        if not symbol:
            raise UsageError(
                f"signals {args.signals_command}: cannot tell the symbol from {args.data}; "
                "pass --symbol"
            )
        return df, str(symbol).upper()
    if not args.symbol:
        raise UsageError(f"signals {args.signals_command}: --venue needs --symbol")
    from tui_trader.data.store import CandleStore

    df = CandleStore(home.data_dir).load(args.venue, args.symbol, args.timeframe)
    return df, args.symbol.strip().upper()


def _train(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from tui_trader.signals.ml.model import TrainConfig, train
    from tui_trader.signals.ml.registry import ModelRegistry

    ctx = context(args)
    if args.horizon < 1:
        raise UsageError("signals train: --horizon must be at least 1")
    if args.folds < 2:
        raise UsageError("signals train: --folds must be at least 2")
    if not 0 <= args.dead_zone < 0.5:
        raise UsageError("signals train: --dead-zone must be a fraction in [0, 0.5), e.g. 0.001")
    df, symbol = _load_candles(args, ctx.home)
    cfg = TrainConfig(
        horizon=args.horizon,
        dead_zone=args.dead_zone,
        folds=args.folds,
        max_iter=max(10, args.max_iter),
        seed=args.seed,
    )
    result = train(df, args.timeframe, cfg)
    dates = df["date"]
    data_range = {
        "start": dates.iloc[0].isoformat(),
        "end": dates.iloc[-1].isoformat(),
        "rows": len(df),
        "source": str(args.data) if args.data else f"store:{args.venue}",
    }
    info = ModelRegistry(ctx.home.models_dir).save(
        result.model,
        symbol=symbol,
        created_at=datetime.now(UTC),
        data_range=data_range,
        report=result.report.as_dict(),
        venue=args.venue,
    )
    if getattr(args, "json", False):
        print_json({"model": info.id, "path": str(info.path), **info.manifest})
        return 0
    rep = result.report
    m, b = rep.metrics, rep.baselines
    print(f"model       {info.id}")
    print(f"data        {symbol} {args.timeframe}, {len(df)} candles, {rep.labelled} labelled")
    print(f"horizon     {args.horizon} candles, {int(m['folds'])} walk-forward folds (purged)")
    print("out-of-sample      accuracy  log loss   AUC")
    print(f"  model            {m['accuracy']:8.3f}  {m['log_loss']:8.4f}  {m['auc']:.3f}")
    maj, last = b["majority"], b["last_move"]
    print(f"  majority class   {maj['accuracy']:8.3f}  {maj['log_loss']:8.4f}  0.500")
    print(f"  same as last     {last['accuracy']:8.3f}  {'-':>8}  {last['auc']:.3f}")
    print(f"verdict     {rep.verdict}")
    if rep.top_features:
        print("top         " + ", ".join(f"{n} {v:+.4f}" for n, v in rep.top_features[:5]))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from tui_trader.signals.ml.inference import Predictor, load_model
    from tui_trader.signals.ml.registry import ModelRegistry

    ctx = context(args)
    df, symbol = _load_candles(args, ctx.home)
    registry = ModelRegistry(ctx.home.models_dir)
    if args.model:
        info = registry.find(args.model)
    else:
        found = registry.latest(symbol, args.timeframe)
        if found is None:
            raise UsageError(
                f"no model for {symbol} {args.timeframe}; train one with "
                f"`tui-trader signals train --symbol {symbol} --timeframe {args.timeframe} ...`"
            )
        info = found
    if info.timeframe != args.timeframe:
        raise UsageError(
            f"model {info.id} is for {info.timeframe} candles, not {args.timeframe}; "
            "pass the matching --timeframe"
        )
    pred = Predictor(info, load_model(registry, info)).predict_last(df)
    if pred is None:
        raise UsageError(
            f"need more than {info.manifest.get('warmup')} candles to predict; load more history"
        )
    doc = {
        "model": info.id,
        "symbol": symbol,
        "timeframe": pred.timeframe,
        "bar": pred.ts,
        "horizon": pred.horizon,
        "prediction": 1 if pred.direction.value == "long" else -1,
        "direction": pred.direction.value,
        "prob_up": pred.prob_up,
        "confidence": pred.confidence,
        "edge": pred.edge,
        "verdict": info.manifest.get("report", {}).get("verdict"),
        "top_features": [{"name": n, "value": v} for n, v in pred.top_features],
    }
    if getattr(args, "json", False):
        print_json(doc)
        return 0
    print(f"model       {info.id}")
    print(f"bar         {pred.ts.isoformat()} ({symbol} {pred.timeframe})")
    print(f"prediction  {pred.direction.value} over the next {pred.horizon} candles")
    print(f"P(up)       {pred.prob_up:.3f}   confidence {pred.confidence:.3f}")
    print(f"trust       {doc['verdict']}")
    if pred.top_features:
        print("features    " + ", ".join(f"{n}={v:g}" for n, v in pred.top_features))
    return 0


def _models(args: argparse.Namespace) -> int:
    from tui_trader.signals.ml.registry import ModelRegistry

    ctx = context(args)
    models = ModelRegistry(ctx.home.models_dir).list()
    if getattr(args, "json", False):
        print_json([{"path": str(m.path), **m.manifest} for m in models])
        return 0
    if not models:
        print("no models yet: train one with `tui-trader signals train`")
        return 0
    print(f"{'id':<40} {'symbol':<12} {'tf':<4} {'h':>3} {'AUC':>6} {'edge':<5} created")
    for m in models:
        auc = m.manifest.get("report", {}).get("metrics", {}).get("auc")
        auc_s = f"{auc:.3f}" if isinstance(auc, int | float) else "-"
        print(
            f"{m.id:<40} {m.symbol:<12} {m.timeframe:<4} {m.horizon:>3} {auc_s:>6} "
            f"{'yes' if m.edge else 'no':<5} {m.created_at:%Y-%m-%d %H:%M}"
        )
    return 0


SUBCOMMANDS: list[Callable[[SubParsers], None]] = [
    _add_parse,
    _add_train,
    _add_predict,
    _add_models,
]
