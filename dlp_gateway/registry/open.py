"""The registry a configuration names, or the empty one when there is none yet."""

from __future__ import annotations

import logging

from dlp_gateway.config.schema import Config
from dlp_gateway.registry.index import EMPTY_REGISTRY, Registry, load_registry
from dlp_gateway.registry.staff import StaffDirectory, load_staff

log = logging.getLogger(__name__)


def registry_for(config: Config, quiet: bool = False) -> Registry:
    path = config.registry.path
    if path is None:
        return EMPTY_REGISTRY
    if not path.exists():
        if not quiet:
            log.warning(
                "registry %s does not exist yet: attribution falls back to insurer mentions and "
                "number patterns (run `dlp-gateway registry import`)",
                path,
            )
        return EMPTY_REGISTRY
    return load_registry(path)


def staff_for(config: Config) -> StaffDirectory | None:
    """The staff directory a configuration names, if it has been imported."""
    path = config.staff.path
    return load_staff(path) if path is not None and path.exists() else None
