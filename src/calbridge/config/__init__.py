"""Configuration: one pydantic-settings schema, loaded from TOML and the environment."""

from calbridge.config.load import load_config
from calbridge.config.schema import Coach, Settings

__all__ = ["Coach", "Settings", "load_config"]
