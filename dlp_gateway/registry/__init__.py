"""The customer registry: the agency's own 証券番号 → 引受保険会社 data, held as salted hashes."""

from dlp_gateway.registry.index import EMPTY_REGISTRY, Registry, RegistryIndex, load_registry

__all__ = ["EMPTY_REGISTRY", "Registry", "RegistryIndex", "load_registry"]
