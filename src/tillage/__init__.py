"""tillage: LTV-based account strategy for B2B sales.

The package follows the data flow ``ingest → store → features → models → strategy → kpi`` with
the surfaces ``cli``, ``api``, ``web`` and ``report`` on top; a stage imports only from stages
before it.
"""

__version__ = "0.1.0"
