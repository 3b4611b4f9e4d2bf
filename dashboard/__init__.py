"""听风 dashboard: the marketing team's daily screen (Streamlit, Chinese UI).

Layout lives in ``dashboard/pages/``; every database read goes through
``dashboard/queries.py`` (plain functions, benchmarkable without Streamlit); role scoping
is applied there through :class:`dashboard.access.Access`.
"""
