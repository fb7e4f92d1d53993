"""Gradio's MCP server runs each tool through a gradio_client of its own (a loopback HTTP client, made on the
first tool call). It makes it without credentials: under HVS_AUTH its first request (/config) is refused and
every tool call answers "Could not load ... as credentials were not provided". Hand it one that logged in.
The MCP caller itself was checked at /gradio_api/mcp/ (ui/auth.py); each tool call still carries its headers."""

from __future__ import annotations

from gradio_client import Client


def log_mcp_in(demo, auth: tuple[str, str] | None) -> None:
    """After launch: give a running app's MCP server a loopback client logged in with `auth`."""
    server = getattr(demo, "mcp_server_obj", None)
    if server is None or not auth or server._client_instance is not None:
        return
    # the options Gradio's own MCP client is made with (gradio/mcp.py, _get_or_create_client)
    server._client_instance = Client(demo.local_url, auth=auth, download_files=False, verbose=False,
                                     analytics_enabled=False, ssl_verify=False, _skip_components=False,
                                     headers={"x-gradio-user": "mcp"})
