"""The only code that talks to AWS: sessions and assume-role, fan-out, one adapter per service."""
