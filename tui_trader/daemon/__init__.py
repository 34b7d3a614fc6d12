"""The headless daemon: control API over a Unix socket (and optional TCP), notifications, metrics.

`RemoteClient` (remote_client.py) speaks the same EngineClient interface as the in-process
client, so the TUI and the command line work unchanged against a running daemon.
"""
