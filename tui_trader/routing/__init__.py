"""Many venues as one: what each venue offers for a symbol (`market`), the consolidated view
(`consolidated`), where an order should go (`plan`) and cross-venue and triangular spreads
(`spreads`). Pure functions of market state: the engine gathers the state and acts."""
