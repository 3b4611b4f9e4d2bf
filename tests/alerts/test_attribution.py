"""Explain away: pure attribution of an aggregate's excess and folding of store × product alerts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from alerts.attribution import (
    dominant_child,
    explain_actions,
    explained_note,
    window_excess,
)
from alerts.spikes import Action, Assessment, Incident

NOW = datetime(2026, 11, 5, 8, tzinfo=timezone.utc)


def assessment(n: int, severity, window=6, share=0.1) -> Assessment:
    z = np.zeros(n)
    return Assessment(severity=np.asarray(severity), p_value=z, window=np.full(n, window), negative=z, total=z,
                      expected=z, baseline_share=np.full(n, share), peer_share=z, peer_window_share=z,
                      baseline_negative=z, baseline_total=z, peer_negative=z, peer_total=z,
                      hot=np.zeros(n, bool), evidence=z, evidence_critical=z, per_day=z)


def grid(rows: list[tuple[int, int]], hours=24) -> tuple[np.ndarray, np.ndarray]:
    """Per row (mentions, negatives) in the last 6 hours over a quiet day of 10% negatives."""
    total = np.zeros((len(rows), hours))
    negative = np.zeros((len(rows), hours))
    for r, (t, x) in enumerate(rows):
        total[r, -6:] = t / 6
        negative[r, -6:] = x / 6
    return total, negative


def opens(keys, rows, severity=2):
    return [Action("open", keys[i], i, severity, NOW, NOW) for i in rows]


def test_window_excess_is_observed_minus_usual_share():
    total, negative = grid([(60, 16), (30, 3)])
    assert np.allclose(window_excess(negative, total, np.array([0.1, 0.1]), 6), [10.0, 0.0])


def test_one_child_with_most_of_the_excess_drives_the_aggregate():
    assert dominant_child(10.0, {1: 8.0, 2: 1.0, 3: 1.0}).child == 1
    assert dominant_child(10.0, {1: 8.0, 2: 1.0}).share == 0.8


def test_spread_excess_has_no_driver_nor_an_aggregate_without_excess():
    assert dominant_child(10.0, {1: 4.0, 2: 3.0, 3: 3.0}) is None
    assert dominant_child(0.0, {1: 4.0}) is None
    assert dominant_child(-2.0, {1: 1.0}) is None


def test_brand_alert_driven_by_an_alerting_store_is_suppressed():
    keys = [("brand", "b1"), ("store", "s1"), ("store", "s2"), ("store", "s3")]
    total, negative = grid([(120, 22), (40, 14), (40, 4), (40, 4)])  # brand +10, s1 +10
    total[0], negative[0] = total[1:].sum(0), negative[1:].sum(0)
    result = assessment(4, [2, 2, 0, 0])
    out = explain_actions(keys, result, opens(keys, [1, 0]), total, negative, {0: [1, 2, 3]}, {})
    assert [a.key for a in out.actions] == [("store", "s1")]
    assert out.suppressed[("brand", "b1")][0] == ("store", "s1")


def test_brand_alert_driven_by_a_store_with_an_open_incident_is_suppressed():
    keys = [("brand", "b1"), ("store", "s1"), ("store", "s2")]
    total, negative = grid([(80, 18), (40, 14), (40, 4)])
    incidents = {("store", "s1"): Incident(2, NOW, NOW, NOW)}
    out = explain_actions(keys, assessment(3, [2, 0, 0]), opens(keys, [0]), total, negative, {0: [1, 2]}, incidents)
    assert out.actions == []


def test_brand_alert_driven_by_a_quiet_store_stays_and_names_it():
    keys = [("brand", "b1"), ("store", "s1"), ("store", "s2")]
    total, negative = grid([(80, 18), (40, 14), (40, 4)])
    out = explain_actions(keys, assessment(3, [2, 0, 0]), opens(keys, [0]), total, negative, {0: [1, 2]}, {})
    assert [a.key for a in out.actions] == [("brand", "b1")]
    assert "约 100% 来自上海店" in explained_note(("brand", "b1"), out, {"s1": "上海店"}.get)


def test_brand_alert_of_many_stores_stays():
    keys = [("brand", "b1"), ("store", "s1"), ("store", "s2"), ("store", "s3")]
    total, negative = grid([(120, 27), (40, 9), (40, 9), (40, 9)])
    result = assessment(4, [2, 2, 2, 0])
    out = explain_actions(keys, result, opens(keys, [1, 2, 0]), total, negative, {0: [1, 2, 3]}, {})
    assert ("brand", "b1") in [a.key for a in out.actions]
    assert out.suppressed == {}


def test_product_alert_driven_by_one_store_product_gives_way_to_it():
    keys = [("product", "p1"), ("store_product", "s1|p1"), ("store_product", "s2|p1")]
    total, negative = grid([(60, 16), (30, 12), (30, 4)])
    out = explain_actions(keys, assessment(3, [2, 2, 0]), opens(keys, [1, 0]), total, negative, {0: [1, 2]}, {})
    assert [a.key for a in out.actions] == [("store_product", "s1|p1")]
    assert out.folded == {}


def test_chain_product_incident_folds_store_products_under_the_product_alert():
    keys = [("product", "p1"), ("store_product", "s1|p1"), ("store_product", "s2|p1"),
            ("store_product", "s3|p1"), ("store_product", "s4|p1")]
    total, negative = grid([(120, 30), (30, 8), (30, 8), (30, 8), (30, 3)])
    result = assessment(5, [2, 1, 2, 0, 0])
    out = explain_actions(keys, result, opens(keys, [1, 2, 0]), total, negative, {0: [1, 2, 3, 4]}, {})
    assert [a.key for a in out.actions] == [("product", "p1")]
    assert [k for k, _ in out.folded[("product", "p1")]] == [("store_product", f"s{i}|p1") for i in (1, 2, 3)]
    note = explained_note(("product", "p1"), out)
    assert "涉及门店：s1（多 5 条）、s2（多 5 条）、s3（多 5 条），共 3 家" in note


def test_store_product_opens_fold_under_an_already_open_product_alert():
    keys = [("product", "p1"), ("store_product", "s1|p1"), ("store_product", "s2|p1")]
    total, negative = grid([(60, 16), (30, 8), (30, 8)])
    incidents = {("product", "p1"): Incident(2, NOW, NOW, NOW)}
    actions = [Action("update", keys[0], 0, 2, NOW, NOW, incidents[("product", "p1")]), *opens(keys, [1])]
    out = explain_actions(keys, assessment(3, [2, 2, 0]), actions, total, negative, {0: [1, 2]}, incidents)
    assert [a.kind for a in out.actions] == ["update"]
    assert len(out.folded[("product", "p1")]) == 2


def test_a_critical_store_product_row_is_not_folded_under_a_warning_product_alert():
    """Folding must not soften a store's critical incident into a watch item nobody is pushed."""
    keys = [("product", "p1"), ("store_product", "s1|p1"), ("store_product", "s2|p1"), ("store_product", "s3|p1")]
    total, negative = grid([(90, 24), (30, 10), (30, 7), (30, 7)])  # no store drives it: chain-wide
    actions = [Action("open", keys[0], 0, 1, NOW, NOW), *opens(keys, [1], severity=2)]
    out = explain_actions(keys, assessment(4, [1, 2, 1, 1]), actions, total, negative, {0: [1, 2, 3]}, {})
    # s2's row is only a warning: it folds; s1's row is critical: it keeps its own alert
    assert [(a.key, a.severity) for a in out.actions] == [(("product", "p1"), 1), (("store_product", "s1|p1"), 2)]
    assert [k for k, _ in out.folded[("product", "p1")]] == [("store_product", "s2|p1"), ("store_product", "s3|p1")]
    # under a critical product alert the same critical row folds
    incidents = {("product", "p1"): Incident(2, NOW, NOW, NOW)}
    out = explain_actions(keys, assessment(4, [0, 2, 0, 0]), opens(keys, [1], severity=2), total, negative,
                          {0: [1, 2, 3]}, incidents)
    assert out.actions == [] or all(a.key[0] == "product" for a in out.actions)
    assert ("store_product", "s1|p1") in [k for k, _ in out.folded[("product", "p1")]]


def test_store_product_alerts_of_other_products_are_untouched():
    keys = [("product", "p1"), ("store_product", "s1|p1"), ("store_product", "s1|p2")]
    total, negative = grid([(60, 16), (30, 8), (30, 8)])
    out = explain_actions(keys, assessment(3, [2, 0, 2]), opens(keys, [2, 0]), total, negative, {0: [1]}, {})
    assert ("store_product", "s1|p2") in [a.key for a in out.actions]


# stores and brands under a chain product incident: rows s1, s2 stores; s1|p1, s1|p2, s2|p1; product p1; brand
CHAIN_KEYS = [("brand", "b1"), ("product", "p1"), ("store", "s1"), ("store", "s2"),
              ("store_product", "s1|p1"), ("store_product", "s1|p2"), ("store_product", "s2|p1")]
CHAIN_CHILDREN = {0: [2, 3], 1: [4, 6]}


def chain(s1_p2_negatives: int = 2):
    """p1 bad in both stores (+6 negatives each); s1's other product p2 has ``s1_p2_negatives`` of 20."""
    rows = [(0, 0), (0, 0), (40, 8 + s1_p2_negatives), (20, 8), (20, 8), (20, s1_p2_negatives), (20, 8)]
    total, negative = grid(rows)
    total[1], negative[1] = total[4] + total[6], negative[4] + negative[6]
    total[0], negative[0] = total[2] + total[3], negative[2] + negative[3]
    return total, negative


def test_store_driven_by_an_open_chain_product_folds_into_it_and_the_product_names_it():
    total, negative = chain()
    inc = Incident(2, NOW, NOW, NOW)
    out = explain_actions(CHAIN_KEYS, assessment(7, [0, 2, 2, 0, 0, 0, 0]), opens(CHAIN_KEYS, [2]), total, negative,
                          CHAIN_CHILDREN, {("product", "p1"): inc})
    assert [(a.kind, a.key) for a in out.actions] == [("update", ("product", "p1"))]  # to name s1 in it
    assert out.actions[0].window_end == inc.window_end and out.actions[0].severity == 2
    assert out.suppressed[("store", "s1")][0] == ("product", "p1")
    assert "s1（多 6 条）" in explained_note(("product", "p1"), out)


def test_store_with_its_own_excess_beyond_the_chain_product_opens_and_says_so():
    total, negative = chain(s1_p2_negatives=12)  # s1: +6 on p1, +10 on p2
    out = explain_actions(CHAIN_KEYS, assessment(7, [0, 2, 2, 0, 0, 0, 0]), opens(CHAIN_KEYS, [2]), total, negative,
                          CHAIN_CHILDREN, {("product", "p1"): Incident(2, NOW, NOW, NOW)})
    assert ("open", ("store", "s1")) in [(a.kind, a.key) for a in out.actions]
    note = explained_note(("store", "s1"), out, product_name={"p1": "芒果冰沙"}.get)
    assert "其中芒果冰沙多 6 条，已在产品提醒中；除此之外本店另多约 10 条差评" in note
    assert "s1（多 6 条，另有门店提醒）" in explained_note(("product", "p1"), out)


def test_store_opening_with_a_chain_product_opening_folds_and_the_brand_gives_way_to_the_product():
    total, negative = chain()
    actions = opens(CHAIN_KEYS, [2, 1, 0])
    out = explain_actions(CHAIN_KEYS, assessment(7, [2, 2, 2, 0, 0, 0, 0]), actions, total, negative,
                          CHAIN_CHILDREN, {})
    assert [a.key for a in out.actions] == [("product", "p1")]
    assert out.suppressed[("brand", "b1")][0] == ("product", "p1")
    assert [k for k, _ in out.folded[("product", "p1")]] == [("store_product", "s1|p1"), ("store_product", "s2|p1")]


def test_brand_driven_by_a_product_that_is_not_alerting_stays_and_names_it():
    total, negative = chain()
    out = explain_actions(CHAIN_KEYS, assessment(7, [2, 0, 0, 0, 0, 0, 0]), opens(CHAIN_KEYS, [0]), total, negative,
                          CHAIN_CHILDREN, {})
    assert [a.key for a in out.actions] == [("brand", "b1")]
    assert "约 100% 来自芒果冰沙" in explained_note(("brand", "b1"), out, product_name={"p1": "芒果冰沙"}.get)


def test_a_resolved_product_incident_whose_window_reaches_the_store_window_still_folds_it():
    total, negative = chain()
    resolved = Incident(2, NOW, NOW, NOW - timedelta(hours=3), resolved_at=NOW)
    out = explain_actions(CHAIN_KEYS, assessment(7, [0, 0, 2, 0, 0, 0, 0]), opens(CHAIN_KEYS, [2]), total, negative,
                          CHAIN_CHILDREN, {("product", "p1"): resolved}, now=NOW)
    assert out.actions == [] and out.folded == {}  # the resolved alert is not touched
    long_ago = Incident(2, NOW, NOW, NOW - timedelta(hours=30), resolved_at=NOW - timedelta(hours=18))
    out = explain_actions(CHAIN_KEYS, assessment(7, [0, 0, 2, 0, 0, 0, 0]), opens(CHAIN_KEYS, [2]), total, negative,
                          CHAIN_CHILDREN, {("product", "p1"): long_ago}, now=NOW)
    assert [a.key for a in out.actions] == [("store", "s1")]


def test_a_one_store_incident_beside_nothing_chain_wide_still_opens():
    total, negative = chain(s1_p2_negatives=12)
    out = explain_actions(CHAIN_KEYS, assessment(7, [0, 0, 2, 0, 0, 0, 0]), opens(CHAIN_KEYS, [2]), total, negative,
                          CHAIN_CHILDREN, {})
    assert [a.key for a in out.actions] == [("store", "s1")] and out.beyond == {}


def test_a_store_product_row_of_a_just_resolved_product_incident_does_not_open():
    total, negative = chain()
    resolved = Incident(2, NOW, NOW, NOW - timedelta(hours=3), resolved_at=NOW)
    out = explain_actions(CHAIN_KEYS, assessment(7, [0, 0, 0, 0, 2, 0, 0]), opens(CHAIN_KEYS, [4]), total, negative,
                          CHAIN_CHILDREN, {("product", "p1"): resolved}, now=NOW)
    assert out.actions == [] and out.suppressed[("store_product", "s1|p1")][0] == ("product", "p1")
    out = explain_actions(CHAIN_KEYS, assessment(7, [0, 0, 0, 0, 2, 0, 0]), opens(CHAIN_KEYS, [4]), total, negative,
                          CHAIN_CHILDREN, {}, now=NOW)
    assert [a.key for a in out.actions] == [("store_product", "s1|p1")]


def test_brand_gives_way_to_two_live_products_that_drive_it_together():
    keys = [("brand", "b1"), ("product", "p1"), ("product", "p2"), ("store", "s1"), ("store", "s2"),
            ("store_product", "s1|p1"), ("store_product", "s2|p1"), ("store_product", "s1|p2"),
            ("store_product", "s2|p2")]
    children = {0: [3, 4], 1: [5, 6], 2: [7, 8]}
    # each product +6 over both stores (half the brand's +12 each): no single driver
    total, negative = grid([(0, 0), (0, 0), (0, 0), (40, 10), (40, 10), (20, 5), (20, 5), (20, 5), (20, 5)])
    for agg, kids in children.items():
        total[agg], negative[agg] = total[kids].sum(0), negative[kids].sum(0)
    live = {("product", "p1"): Incident(2, NOW, NOW, NOW), ("product", "p2"): Incident(2, NOW, NOW, NOW)}
    out = explain_actions(keys, assessment(9, [2, 0, 0, 0, 0, 0, 0, 0, 0]), opens(keys, [0]), total, negative,
                          children, live)
    assert out.actions == [] and out.suppressed[("brand", "b1")][0][0] == "product"
    out = explain_actions(keys, assessment(9, [2, 0, 0, 0, 0, 0, 0, 0, 0]), opens(keys, [0]), total, negative,
                          children, {("product", "p1"): live[("product", "p1")]})
    assert [a.key for a in out.actions] == [("brand", "b1")]  # half of it is news
