"""Jianguan kernel: regions, organisations, users and roles, data scope, audit, events, jobs, master records."""
