"""安全管理: organisation, user, role and token administration, and the audit browser."""
