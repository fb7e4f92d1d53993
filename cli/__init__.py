"""Command line: a take, a dialogue or a prompt from a terminal. A composition root, like app.py."""
