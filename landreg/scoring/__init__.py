"""Suitability: criteria layers, purpose profiles, per-plot scores, surfaces and candidates.

No Flask here; ``landreg.scoring.service`` is the one module that reads and writes PostGIS,
through a SQLAlchemy session it is given.
"""
