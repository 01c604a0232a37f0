"""Terminal UI for alerting authorities (built by the TUI issue)."""
