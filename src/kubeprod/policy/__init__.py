"""Policy: checkov bridge (and, later, one rule per requirement ID over plan JSON)."""
