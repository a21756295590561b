"""tillage.kpi."""
