"""The clinic's editable settings (config/clinic.yml): contact details, disclaimer, emergency numbers."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml

from bot import settings


@dataclass(frozen=True)
class ClinicConfig:
    name: str
    phone: str
    email: str
    booking_url: str
    opening_hours: str
    disclaimer: str
    scope_notice: str
    emergency_number: str
    emergency_advice: str
    crisis_line: str
    urgent_care: str
    retention_days: int


def load_clinic_config(path: Optional[Path] = None) -> ClinicConfig:
    path = Path(path) if path else settings.clinic_config_path()
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    clinic = data.get("clinic", {})
    emergency = data.get("emergency", {})
    return ClinicConfig(
        name=str(clinic.get("name", "the clinic")),
        phone=str(clinic.get("phone", "")),
        email=str(clinic.get("email", "")),
        booking_url=str(clinic.get("booking_url", "")),
        opening_hours=str(clinic.get("opening_hours", "")),
        disclaimer=str(data["disclaimer"]).strip(),
        scope_notice=str(data["scope_notice"]).strip(),
        emergency_number=str(emergency.get("number", "911 / 112")),
        emergency_advice=str(emergency.get("advice", "or your local emergency number.")),
        crisis_line=str(emergency.get("crisis_line", "your local crisis line")),
        urgent_care=str(emergency.get("urgent_care", "an urgent-care or out-of-hours service")),
        retention_days=int(data.get("privacy", {}).get("retention_days", 30)),
    )


@lru_cache(maxsize=1)
def default_clinic_config() -> ClinicConfig:
    return load_clinic_config()
