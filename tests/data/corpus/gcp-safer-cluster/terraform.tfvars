project_id = "corp-prod-123456"
