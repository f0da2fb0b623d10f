"""Kernel UI views: sign-in (``auth``), dashboard (``home``), master data (``masterdata``) and jobs (``jobs``)."""
