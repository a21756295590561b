"""tillage.features."""
