"""landreg — the shared business-land registry of the seven Glåmdalen municipalities."""

__version__ = "0.1.0"
