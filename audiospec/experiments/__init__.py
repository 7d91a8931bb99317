"""The analyses and experiments behind the CLI."""
