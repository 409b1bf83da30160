"""Children's information-sharing index service."""

__version__ = "0.1.0"
