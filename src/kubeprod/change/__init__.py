"""Change management (CHG-1..5): bundles, review, approval, windows, the apply gate,
snapshots, notifications, the change log, rollback, drift and CI templates.

Every module here is a small set of plain functions; `apply.apply_bundle` strings
them together in the order the brief's change process asks for.
"""
