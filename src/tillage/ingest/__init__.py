"""tillage.ingest."""
