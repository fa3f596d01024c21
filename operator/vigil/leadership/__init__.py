"""Leader election for running several operator replicas: one reconciles, the others wait.

``lease``: the ``coordination.k8s.io/v1`` Lease record and its API; ``election``: client-go's
acquire / renew / release over it; ``fence``: the process-wide gate every AWS write passes, open
only while the Lease is held. Kept free of imports here: ``controls`` imports the fence alone.
"""
