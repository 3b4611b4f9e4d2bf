"""The sentiment models (the 模型 page): registry, validation figures, correction rates."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import func

from dashboard.queries.base import MA, TP, _frame
from storage import Database
from storage.corrections import shown_polarity
from storage.models import Correction, ModelRecord

MR = ModelRecord.__table__
CO = Correction.__table__
REGISTRY_COLUMNS = ["name", "version", "created_at", "promoted_at", "artifact_path", "figures", "current"]
RATE_COLUMNS = ["model", "model_version", "scored", "corrected", "sentiment", "touchpoint", "rate"]


def model_registry(db: Database) -> pd.DataFrame:
    """Every recorded model version, newest first; ``current`` marks the one scoring uses."""
    df = _frame(db, sa.select(MR.c.name, MR.c.version, MR.c.created_at, MR.c.promoted_at, MR.c.artifact_path,
                              MR.c.figures).order_by(MR.c.created_at.desc(), MR.c.id.desc()))
    if df.empty:
        return pd.DataFrame(columns=REGISTRY_COLUMNS)
    promoted = df[df["promoted_at"].notna()]
    current = promoted.sort_values("promoted_at", ascending=False).index[0] if not promoted.empty else None
    df["current"] = df.index == current
    return df[REGISTRY_COLUMNS].reset_index(drop=True)


def correction_rates(db: Database) -> pd.DataFrame:
    """Per model version: mentions it scored (now), mentions corrected while scored by it, the rate."""
    scored = _frame(db, sa.select(MA.c.model, MA.c.model_version, func.count().label("scored"))
                    .group_by(MA.c.model, MA.c.model_version))
    kinds = _frame(db, sa.select(CO.c.model, CO.c.model_version, CO.c.kind,
                                 func.count(sa.distinct(CO.c.mention_id)).label("n"))
                   .group_by(CO.c.model, CO.c.model_version, CO.c.kind))
    corrected = _frame(db, sa.select(CO.c.model, CO.c.model_version,
                                     func.count(sa.distinct(CO.c.mention_id)).label("corrected"))
                       .group_by(CO.c.model, CO.c.model_version))
    if scored.empty and corrected.empty:
        return pd.DataFrame(columns=RATE_COLUMNS)
    keys = ["model", "model_version"]
    df = (scored if not scored.empty else pd.DataFrame(columns=[*keys, "scored"])).merge(
        corrected if not corrected.empty else pd.DataFrame(columns=[*keys, "corrected"]), on=keys, how="outer")
    for kind in ("sentiment", "touchpoint"):
        part = kinds[kinds["kind"] == kind][[*keys, "n"]].rename(columns={"n": kind}) if not kinds.empty else \
            pd.DataFrame(columns=[*keys, kind])
        df = df.merge(part, on=keys, how="left")
    for col in ("scored", "corrected", "sentiment", "touchpoint"):
        df[col] = pd.to_numeric(df[col]).fillna(0).astype(int)
    df["rate"] = (df["corrected"] / df["scored"]).where(df["scored"] > 0)
    return df[RATE_COLUMNS].sort_values(keys).reset_index(drop=True)


def mention_touchpoints(db: Database, mention_id: int) -> dict[str, str]:
    """touchpoint -> polarity shown for one mention (the most negative of its clauses)."""
    df = _frame(db, sa.select(TP.c.touchpoint, TP.c.polarity).where(TP.c.mention_id == int(mention_id)))
    if df.empty:
        return {}
    return {t: shown_polarity(g["polarity"]) for t, g in df.groupby("touchpoint")}
