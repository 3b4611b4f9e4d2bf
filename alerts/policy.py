"""``AlertPolicy``: how sensitive the detector is and how alerts live and travel.

The catalog's ``[alerts]`` TOML table is parsed into this model, so every field has a
default that works for a typical chain and every validation error names the field and
says what is expected. Detection reads the statistical and lifecycle fields; routing
and delivery read ``escalate_after_minutes``, ``quiet_hours`` and the digest fields.
"""

from __future__ import annotations

import re


from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storage.types import ZoneName

SCOPE_TYPES = (
    "brand",
    "region",
    "store",
    "product",
    "store_product",
    "touchpoint",
    "store_touchpoint",
    "platform",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _check_hhmm(value: str, field: str) -> str:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise ValueError(f"{field} must be a time of day written HH:MM (24 h), e.g. \"08:00\"; got {value!r}")
    return value


class AlertPolicy(BaseModel):
    """Alert policy: detection sensitivity, lifecycle, routing timings.

    Significance levels are tail probabilities after correction for the number of
    windows tested; smaller means fewer, surer alerts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # ---------------------------------------------------------------- detection
    timezone: ZoneName = Field("Asia/Shanghai", description="business time zone: seasonality, titles, digest")
    scope_types: tuple[str, ...] = Field(
        ("brand", "region", "store", "product", "store_product"),
        description="rollup scope types watched for spikes",
    )
    windows_hours: tuple[int, ...] = Field(
        (3, 6, 12, 24, 48), description="recent windows compared with the baseline, in hours"
    )
    baseline_days: int = Field(28, ge=7, le=120, description="history the baseline is estimated from")
    min_negative: int = Field(3, ge=1, description="fewest negative mentions in a window that can alert")
    min_negative_critical: int = Field(5, ge=1, description="fewest negative mentions for a critical alert")
    alpha_warning: float = Field(3e-3, gt=0, lt=1, description="significance for a warning")
    alpha_critical: float = Field(1e-5, gt=0, lt=1, description="significance for a critical alert")
    alpha_count: float = Field(5e-2, gt=0, lt=1, description="negative count must also be above its seasonal norm")
    alpha_hold: float = Field(1e-2, gt=0, lt=1, description="an open incident is still hot at this level")
    count_path: bool = Field(True, description="also test the negative count itself when volume is as usual")
    volume_dispersion: float = Field(10.0, gt=0, description="gamma-Poisson shape of hourly counts (smaller = burstier)")
    hold_window_hours: int = Field(6, ge=1, description="longest recent window used to decide 'still hot'")
    prior_strength: float = Field(20.0, gt=0, description="pseudo-mentions of the peer share in each baseline")
    share_cv: float = Field(0.25, gt=0, le=2, description="usual day-to-day relative spread of the negative share")
    max_concentration: float = Field(300.0, gt=0, description="cap on baseline certainty (day-to-day overdispersion)")
    promotion_aggregate_share: float = Field(
        0.1, gt=0, le=1, description="share of a brand's or product's usual volume at stores under a planned "
                                     "promotion from which its own expected volume is lifted too")
    cusum: bool = Field(True, description="also run a CUSUM scan that accumulates evidence over hours")
    cusum_ratios: tuple[float, ...] = Field(
        (2.0, 3.0, 5.0, 8.0), description="rises of the negative rate the CUSUM scan tries (the best one counts)")
    cusum_max_hours: int = Field(48, ge=3, le=24 * 7, description="longest stretch the CUSUM scan looks back")
    cusum_threshold: float = Field(6.0, gt=0, description="log-likelihood ratio for a warning")
    cusum_threshold_critical: float = Field(11.0, gt=0, description="log-likelihood ratio for a critical alert")
    calibrated: bool = Field(
        True, description="severity from false-alarm budgets calibrated on null streams (alerts/calibration.py); "
                          "false: the nominal alpha_* / cusum_threshold* levels alone")
    # ---------------------------------------------------------------- lifecycle
    cooldown_hours: int = Field(24, ge=0, description="no new alert of the same or lower severity this soon after one resolved")
    resolve_after_hours: int = Field(12, ge=1, description="resolve an incident after this many hours without being hot")
    urgent: bool = Field(True, description="raise an immediate alert for mentions NLP flags urgent")
    urgent_lookback_hours: int = Field(72, ge=1, description="how far back urgent mentions are picked up")
    urgent_dedup_hours: int = Field(24, ge=1, description="urgent mentions of one store this close form one incident")
    # ---------------------------------------------------------------- routing (read by alerts routing/outbox)
    escalate_after_minutes: int = Field(120, ge=1, description="escalate an unacknowledged alert after this long; "
                                        "also the acknowledge deadline of the handling KPI (及时率)")
    resolve_within_hours: int = Field(24, ge=1, description="a person should resolve an alert within this long (解决率)")
    quiet_hours: tuple[str, str] | None = Field(None, description='("22:00", "08:00"): hold non-critical pushes')
    digest_weekday: str = Field("mon", description="weekday the weekly digest goes out")
    digest_time: str = Field("09:00", description="local time the weekly digest goes out, HH:MM")

    @field_validator("scope_types")
    @classmethod
    def _scopes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in SCOPE_TYPES]
        if unknown:
            raise ValueError(f"unknown scope types {unknown}; choose from {list(SCOPE_TYPES)}")
        if not value:
            raise ValueError("scope_types must name at least one scope type")
        return value

    @field_validator("windows_hours")
    @classmethod
    def _windows(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(w < 1 or w > 24 * 7 for w in value):
            raise ValueError(f"windows_hours must be whole hours between 1 and 168; got {list(value)}")
        return tuple(sorted(set(value)))

    @field_validator("digest_weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        v = str(value).strip().lower()[:3]
        if v not in WEEKDAYS:
            raise ValueError(f"digest_weekday must be one of {list(WEEKDAYS)}; got {value!r}")
        return v

    @field_validator("digest_time")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        return _check_hhmm(value, "digest_time")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: tuple[str, str] | None) -> tuple[str, str] | None:
        if value is None:
            return None
        start, end = (_check_hhmm(v, "quiet_hours") for v in value)
        if start == end:
            raise ValueError("quiet_hours start and end must differ")
        return (start, end)

    @model_validator(mode="after")
    def _consistent(self) -> "AlertPolicy":
        if self.alpha_critical > self.alpha_warning:
            raise ValueError(
                f"alpha_critical ({self.alpha_critical}) must not exceed alpha_warning ({self.alpha_warning}): "
                "a critical alert needs stronger evidence than a warning"
            )
        if self.min_negative_critical < self.min_negative:
            raise ValueError("min_negative_critical must be at least min_negative")
        return self

    @property
    def lookback_hours(self) -> int:
        """Hours of hourly rollups the detector reads: baseline plus the longest window."""
        return self.baseline_days * 24 + self.recent_hours

    @property
    def recent_hours(self) -> int:
        """Hours at the end of the lookback that are tested rather than used as baseline."""
        return max(max(self.windows_hours), self.cusum_max_hours if self.cusum else 0)



