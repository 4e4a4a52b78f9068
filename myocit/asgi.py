"""ASGI entry point for uvicorn: ``myocit.asgi:app``."""

from web.app import create_app

app = create_app()
