"""听风 dashboard: the marketing team's daily screen (Streamlit, Chinese UI).

Layout lives in ``dashboard/views/`` (one module per page; not ``pages/``, which Streamlit
would run directly as a v1 multipage app, bypassing app.py and its login gate); every database read goes through
``dashboard/queries/`` (plain functions, benchmarkable without Streamlit); role scoping
is applied there through :class:`dashboard.access.Access`.
"""
