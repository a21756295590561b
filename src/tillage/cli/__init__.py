"""tillage.cli."""
