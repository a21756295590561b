"""tillage.api."""
