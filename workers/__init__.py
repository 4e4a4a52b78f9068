"""Celery: the app factory, thin idempotent tasks, and the re-screening scheduler."""
