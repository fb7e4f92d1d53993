"""The studio's Gradio page: layout and callbacks only. The engine is injected; torch is never imported here."""

from studio.service import Studio

from .layout import CSS, TITLE, build_ui

__all__ = ["CSS", "TITLE", "Studio", "build_ui"]
