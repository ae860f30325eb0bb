from kubeprod.cli import main

raise SystemExit(main())
