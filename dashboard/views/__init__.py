"""One module per dashboard page; layout only (data comes from ``dashboard.queries``)."""
