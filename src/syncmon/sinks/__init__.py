"""Where alerts go: clients for external receivers, shared by `watch` and the dashboard."""
