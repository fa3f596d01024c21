"""Controls: per kind, observe AWS -> plan (pure) -> apply (Enforce only) -> report."""
