"""Vigil: a Kubernetes operator that keeps an AWS Organization's logging and monitoring baseline true."""

__version__ = "0.1.0"
