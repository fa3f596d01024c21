"""Argument types the workstation commands share: a region, a role name, an organization id are
checked on the command line, against the patterns AWS and the API check them with, before anything
reaches AWS or a file."""

from __future__ import annotations

import argparse
import re

from ..api.common import IAM_ROLE_NAME_PATTERN, REGION_PATTERN
from ..aws.permissions import ROLE_PREFIX
from ..iam_policies import EXTERNAL_ID_PATTERN, ORGANIZATION_ID_PATTERN

_REGION = re.compile(REGION_PATTERN)


def region(text: str) -> str:
    if not _REGION.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an AWS region name (as us-east-1, eu-west-3, "
                                         "us-gov-west-1)")
    return text


def regions(text: str) -> str:
    """A comma-separated list of regions, each checked; kept as the text the command splits."""
    for part in text.split(","):
        if part.strip():
            region(part.strip())
    return text


def role_name(text: str) -> str:
    if not re.match(IAM_ROLE_NAME_PATTERN, text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an IAM role name (1 to 64 letters, digits and +=,.@_-)")
    if text.startswith(ROLE_PREFIX):
        raise argparse.ArgumentTypeError(f"{text!r} starts with {ROLE_PREFIX}, as the roles Vigil creates and may "
                                         "change: name the member role otherwise")
    return text


def organization_id(text: str) -> str:
    if not re.match(ORGANIZATION_ID_PATTERN, text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an AWS Organizations id (o- and 10 to 32 lowercase "
                                         "letters or digits, as DescribeOrganization answers)")
    return text


def external_id(text: str) -> str:
    if not re.match(EXTERNAL_ID_PATTERN, text):
        raise argparse.ArgumentTypeError("the external id must be 2 to 1224 letters, digits and +=,.@:/-_")
    return text
