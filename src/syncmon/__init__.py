"""syncmon: terminal dashboard and headless alerting for the sync infrastructure."""

__version__ = "0.1.0"
