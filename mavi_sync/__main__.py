"""`python -m mavi_sync` runs the same CLI as the `mavi-sync` script."""

from mavi_sync.cli import main

raise SystemExit(main())
