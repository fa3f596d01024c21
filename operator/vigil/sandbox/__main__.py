"""python -m vigil.sandbox --port N: the same as ``vigil sandbox``."""

from vigil.sandbox.cli import main

raise SystemExit(main())
