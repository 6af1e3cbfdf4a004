"""The API uses the pipeline's settings object: one configuration for every process."""
from pipeline.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
