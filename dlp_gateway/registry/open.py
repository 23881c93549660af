"""The registry a configuration names, or the empty one when there is none yet."""

from __future__ import annotations

import logging

from dlp_gateway.config.schema import Config
from dlp_gateway.registry.index import EMPTY_REGISTRY, Registry, load_registry

log = logging.getLogger(__name__)


def registry_for(config: Config, quiet: bool = False) -> Registry:
    path = config.registry_path
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
