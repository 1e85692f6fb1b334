"""capwatch: independent-sector capacity utilisation for NHS commissioners."""

__version__ = "0.1.0"
