"""ASGI entry point for uvicorn: ``myocit.asgi:app`` (imported once by each API worker process)."""

from config.logs import configure
from config.settings import get_settings
from web.app import create_app

configure(get_settings().log_level, get_settings().log_format)
app = create_app()
