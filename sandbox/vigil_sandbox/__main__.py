"""python -m vigil_sandbox --port N: the same as ``vigil-sandbox``."""

from vigil_sandbox.cli import main

raise SystemExit(main())
