"""icc-events: an open data API about the International Criminal Court."""

__version__ = "0.1.0"
