"""Order management: the order state machine, positions and P&L from fills, reconciliation."""
