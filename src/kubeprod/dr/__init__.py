"""Disaster recovery: backup schedules against the RPO, drills and their history (DR-1..5)."""
