"""Pure parsing helpers shared by the source types (no I/O, no database)."""
