"""The sandbox's own bugs, told apart from Vigil's.

A module of its own so that the layers below the gaps (the policy evaluator the server runs on
every request) raise the same error as the gaps do, without importing the gaps package.
"""

from __future__ import annotations


class SandboxContractError(AssertionError):
    """The sandbox answered, or was asked to read, something outside what it models faithfully:
    an answer outside botocore's output shape, a policy element it cannot evaluate. A bug to fix
    in the sandbox, never a result to assert on in Vigil's tests."""
