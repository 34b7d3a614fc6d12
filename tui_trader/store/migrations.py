"""Versioned schema migrations. Append new steps; never edit a released one."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: orders, fills, positions, equity, strategy state, signals, audit log
    """
    CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY,
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        type TEXT NOT NULL,
        quantity TEXT NOT NULL,
        price TEXT,
        stop_price TEXT,
        time_in_force TEXT NOT NULL,
        status TEXT NOT NULL,
        filled_quantity TEXT NOT NULL DEFAULT '0',
        average_price TEXT,
        fees TEXT NOT NULL DEFAULT '0',
        venue_order_id TEXT,
        reason TEXT,
        source TEXT NOT NULL,
        strategy TEXT,
        tag TEXT,
        post_only INTEGER NOT NULL DEFAULT 0,
        reduce_only INTEGER NOT NULL DEFAULT 0,
        parent_id TEXT,
        oco_id TEXT,
        meta TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX orders_status ON orders(status);
    CREATE TABLE fills (
        venue TEXT NOT NULL,
        fill_id TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        venue_order_id TEXT,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        quantity TEXT NOT NULL,
        price TEXT NOT NULL,
        fee TEXT NOT NULL,
        fee_currency TEXT NOT NULL,
        liquidity TEXT NOT NULL,
        ts TEXT NOT NULL,
        PRIMARY KEY (venue, fill_id)
    );
    CREATE INDEX fills_order ON fills(client_order_id);
    CREATE TABLE positions (
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        quantity TEXT NOT NULL,
        average_price TEXT NOT NULL,
        realized_pnl TEXT NOT NULL,
        fees TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (venue, symbol)
    );
    CREATE TABLE equity (
        ts TEXT NOT NULL,
        equity REAL NOT NULL,
        cash REAL NOT NULL,
        gross_exposure REAL NOT NULL,
        net_exposure REAL NOT NULL
    );
    CREATE INDEX equity_ts ON equity(ts);
    CREATE TABLE strategy_state (
        strategy TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE signals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        source TEXT NOT NULL,
        symbol TEXT NOT NULL,
        direction TEXT NOT NULL,
        strength REAL NOT NULL,
        confidence REAL,
        reason TEXT NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 2: risk state that survives restarts, closed round trips, per-strategy sub-ledgers
    """
    CREATE TABLE risk_state (
        key TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE closed_trades (
        key TEXT PRIMARY KEY,
        exit_ns INTEGER NOT NULL,
        trade TEXT NOT NULL
    );
    CREATE INDEX closed_trades_exit ON closed_trades(exit_ns);
    CREATE TABLE ledger (
        owner TEXT NOT NULL,
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        quantity TEXT NOT NULL,
        average_price TEXT NOT NULL,
        realized_pnl TEXT NOT NULL,
        fees TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (owner, venue, symbol)
    );
    CREATE TABLE store_probe (id INTEGER PRIMARY KEY, ts TEXT NOT NULL);
    """,
    # 3: positions on margin: funding / swap kept on the position; every funding or swap payment
    """
    ALTER TABLE positions ADD COLUMN funding TEXT NOT NULL DEFAULT '0';
    CREATE TABLE cash_flows (
        venue TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        kind TEXT NOT NULL,
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        rate TEXT,
        ts TEXT NOT NULL,
        PRIMARY KEY (venue, flow_id)
    );
    CREATE INDEX cash_flows_ts ON cash_flows(ts);
    """,
    # 4: copy trading: every leader fill seen, written before its mirrored order is sent
    """
    CREATE TABLE copy_mirrors (
        leader TEXT NOT NULL,
        fill_key TEXT NOT NULL,
        leader_ts TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        quantity TEXT NOT NULL,
        price TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        client_order_id TEXT,
        detail TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (leader, fill_key)
    );
    CREATE INDEX copy_mirrors_order ON copy_mirrors(client_order_id);
    """,
]
