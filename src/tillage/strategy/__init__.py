"""tillage.strategy."""
