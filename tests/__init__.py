"""Makes tests/dashboard import as tests.dashboard, so it never shadows the dashboard package."""
