"""python -m vigil.sandbox.kube --port N [--crds DIR] [--namespace NS]... [--kubeconfig PATH]: serve the emulator."""

from vigil.sandbox.kube.runner import main

raise SystemExit(main())
