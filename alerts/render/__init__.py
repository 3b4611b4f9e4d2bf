"""Rendering of alert messages and the weekly digest (pure: data in, text/HTML/PNG out).

- :mod:`alerts.render.env` — Jinja2 environment (HTML autoescaped) and filters
- :mod:`alerts.render.alert` — alert email (subject, text, HTML) and chat markdown
- :mod:`alerts.render.digest` — the weekly digest email and its Excel attachment
- :mod:`alerts.render.charts` — Altair charts rendered to PNG (Noto Sans CJK SC)
- :mod:`alerts.render.links` — ``LinkSettings`` and signed acknowledge / resolve links
"""
