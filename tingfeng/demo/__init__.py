"""The self-contained demo: a generated chain, a local site, an SMTP sink."""
