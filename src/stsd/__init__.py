"""stsd: a self-hostable, AWS-wire-compatible Security Token Service."""

__version__ = "0.1.0"
