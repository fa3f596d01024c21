"""Argument types the workstation commands share: a region is checked on the command line, against
the pattern the API checks it with, before anything reaches AWS."""

from __future__ import annotations

import argparse
import re

from ..api.common import REGION_PATTERN

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
