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

Delivery half:

- :mod:`alerts.routing` — pure: who hears about an alert, escalation, quiet hours
- :mod:`alerts.outbox` — ``enqueue_alert_notifications`` writes the outbox once per
  recipient and channel; ``deliver_notifications`` claims, sends, retries, rate-limits
- :mod:`alerts.channels` — the ``Notifier`` protocol and one module per service
  (email, WeCom, DingTalk, Feishu, webhook) in an explicit registry
- :mod:`alerts.render` — Jinja2 (autoescaped) emails, chat markdown, charts
- :mod:`alerts.digest` — the weekly digest per recipient scope, queued once per week

Imports ``storage`` and ``nlp`` only, never the other stages. Errors: :mod:`alerts.errors`.
"""
