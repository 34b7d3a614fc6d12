from tui_trader.cli.main import main

raise SystemExit(main())
