"""Alerts stage: rollups, spike detection, alert lifecycle, routing and delivery.

Detection half:

- :mod:`alerts.policy` — ``AlertPolicy``, the ``[alerts]`` table of the catalog
- :mod:`alerts.rollups` — ``update_rollups(db)``: hourly / daily counts per scope
- :mod:`alerts.spikes` — pure statistics: seasonal baselines, beta-binomial and
  Poisson tails, the per-scope incident state machine
- :mod:`alerts.detect` — ``detect_alerts(db, policy, now=None)``: spike and urgent
  alerts written to the ``alerts`` table
- :mod:`alerts.evidence` — top touchpoints, keywords and representative mentions
- :mod:`alerts.backtest` — the same detector run causally over a mentions CSV

Imports ``storage`` and ``nlp`` only, never the other stages. Errors: :mod:`alerts.errors`.
"""
