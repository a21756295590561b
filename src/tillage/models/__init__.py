"""tillage.models."""
