"""tillage.report."""
