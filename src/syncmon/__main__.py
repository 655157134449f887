from syncmon.cli import main

raise SystemExit(main())
