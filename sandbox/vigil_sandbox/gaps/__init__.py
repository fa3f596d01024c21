"""What moto lacks or answers wrongly, added to the moto server as stateful extensions.

One module per AWS service (``sts``, ``organizations``, ``kms``, ``s3``, ``cloudtrail``), each
read as moto reads: the domain (state and rules) first, the wire (one handler per operation)
after, and last its ``GAPS`` tuple, one ``Gap`` entry per operation taken over: the operation, the
moto response class, what moto did, what the sandbox does instead. The shared machinery (``Gap``,
the errors, the botocore contract checks) is in ``_core``; coarse IAM policy reading in
``_policies``.

To add a gap: write its handler in the service's module (a new module imports ``Gap`` and
``AwsError`` from ``._core``), add a ``Gap`` to that module's ``GAPS``, and for a new module add
its ``GAPS`` to the tuple below.

A gap is one of three kinds:
- guard: checks what AWS checks and moto does not, then lets moto answer;
- fix: answers in moto's place, from moto's own state;
- addition: an operation moto lacks; its state is kept in the service's module.

``apply_gaps()`` sets the operations' methods on moto's response classes, and the few domain
methods in ``PATCHES`` (the sandbox's only lasting patches of moto); ``remove_gaps()`` puts moto's own back, and ``without_gaps()`` does so
for a block: that is how the tests show each gap is needed.

A gap's request is validated against botocore's input shape; an answer a gap produces is
validated against the output shape, and a mismatch raises SandboxContractError (a 500 with a
traceback in the server log): the sandbox must not teach Vigil a wire format AWS never sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import (accessanalyzer, account, cloudtrail, config, ec2, firehose, guardduty, iam, kinesis, kms, logs,
               logs_subscriptions, organizations, s3, securityhub, ssm, sts)
from ._core import (
    AwsError,
    Gap,
    Handler,
    SandboxContractError,
    check_request,
    check_response,
    gap_method,
)
from .cloudtrail import PublicKey, clear_public_keys, register_public_key

__all__ = [
    "GAPS",
    "AwsError",
    "Gap",
    "Handler",
    "PublicKey",
    "SandboxContractError",
    "apply_gaps",
    "check_request",
    "check_response",
    "clear_public_keys",
    "register_public_key",
    "remove_gaps",
    "without_gaps",
]

GAPS: tuple[Gap, ...] = (*sts.GAPS, *organizations.GAPS, *kms.GAPS, *s3.GAPS, *cloudtrail.GAPS,
                         *guardduty.GAPS, *iam.GAPS, *config.GAPS,
                         *ec2.GAPS, *securityhub.GAPS, *accessanalyzer.GAPS,
                         *logs.GAPS, *ssm.GAPS, *logs_subscriptions.GAPS, *firehose.GAPS, *kinesis.GAPS,
                         *account.GAPS)


# Domain methods replaced where no operation's handler reaches (see s3.PATCHES).
PATCHES = (*s3.PATCHES,)

# The moto methods the gaps replaced: (class, name) -> the original, or None if moto had none.
_replaced: dict[tuple[type, str], Callable[[Any], Any] | None] = {}


def apply_gaps() -> None:
    """Install every gap on moto's response classes (idempotent)."""
    for gap in GAPS:
        slot = (gap.response_class, gap.method)
        if slot in _replaced:
            continue
        moto_method = gap.response_class.__dict__.get(gap.method)
        if (moto_method is None) != (gap.kind == "addition"):
            # moto changed under the gap (a new version): the gap needs a fresh look.
            state = "lacks" if moto_method is None else "now has"
            raise SandboxContractError(
                f"moto {state} {gap.response_class.__name__}.{gap.method}; revisit the gap"
            )
        _replaced[slot] = moto_method
        setattr(gap.response_class, gap.method, gap_method(gap, moto_method))
    for cls, name, replacement in PATCHES:
        if (cls, name) not in _replaced:
            _replaced[(cls, name)] = cls.__dict__[name]
            setattr(cls, name, replacement)


def remove_gaps() -> None:
    """Put moto's own methods back."""
    for (cls, name), moto_method in _replaced.items():
        if moto_method is None:
            delattr(cls, name)
        else:
            setattr(cls, name, moto_method)
    _replaced.clear()


@contextmanager
def without_gaps() -> Iterator[None]:
    """Plain moto for the duration of the block (the server is in this process)."""
    applied = bool(_replaced)
    remove_gaps()
    try:
        yield
    finally:
        if applied:
            apply_gaps()
