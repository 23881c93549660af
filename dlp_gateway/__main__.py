from dlp_gateway.cli import main

raise SystemExit(main())
