"""Configuration: YAML parsed once into frozen, typed, validated objects."""

from dlp_gateway.config.load import load_config
from dlp_gateway.config.schema import Config

__all__ = ["Config", "load_config"]
