"""plekzoeker: find places where people can live now."""
__version__ = "0.1.0"
