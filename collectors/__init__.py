"""Collectors: fetch every configured source politely and store new mentions once.

Entry point for jobs: :func:`collectors.run.collect_source`. Source types live in
``collectors/sources/`` (one module each) and are listed in ``collectors/registry.py``.
Imports only :mod:`storage` of tingfeng's packages.
"""
