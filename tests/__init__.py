"""The test suite (a package, so tests/dashboard is tests.dashboard, never the dashboard package)."""
