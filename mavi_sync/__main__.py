"""`python -m mavi_sync` runs the same CLI as the `mavi-sync` script."""

from mavi_sync.commands.parser import main

raise SystemExit(main())
