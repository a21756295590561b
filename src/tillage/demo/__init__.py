"""tillage.demo."""
