"""mavi-sync: keep camera, phone and NVR dump folders synced into memories.ai."""

__version__ = "0.1.0"
