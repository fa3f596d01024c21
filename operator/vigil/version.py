"""The version Vigil reports: `vigil --version`, the vigil_build_info metric, the AWS User-Agent."""

from __future__ import annotations

from importlib import metadata

from . import __version__


def version() -> str:
    """The installed distribution's version; the source tree's when Vigil runs uninstalled."""
    try:
        return metadata.version("vigil")
    except metadata.PackageNotFoundError:
        return __version__


VERSION = version()
