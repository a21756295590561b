"""tillage.web."""
