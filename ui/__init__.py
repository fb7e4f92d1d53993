"""The studio's Gradio page: layout and callbacks only. The engine is injected; torch is never imported here."""

from .layout import CSS, TITLE, build_ui
from .studio import Studio

__all__ = ["CSS", "TITLE", "Studio", "build_ui"]
