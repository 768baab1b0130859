from cipherslip_cli.main import main

raise SystemExit(main())
