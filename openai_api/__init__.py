"""OpenAI-compatible speech API on the studio's own server and port (see routes.py and speech.py).

Tools that speak OpenAI's `/v1/audio/speech` (Open WebUI, SillyTavern, n8n, Home Assistant, the `openai`
package) can use the studio as their text-to-speech server.
"""

from .routes import API_KEY_ENV, Gate, speech_routes

__all__ = ["API_KEY_ENV", "Gate", "speech_routes"]
