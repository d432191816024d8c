"""The page shell: navigation, the one stylesheet (inline: the console loads nothing but its own pages),
and small formatting helpers the pages share."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from html import escape
from typing import Any

__all__ = ["NAV", "fmt_num", "fmt_seconds", "fmt_time", "json_block", "page", "status_badge"]

NAV = (
    ("/", "Executions"),
    ("/models", "Models"),
    ("/forecasts", "Forecasts"),
    ("/quality", "Data quality"),
    ("/metrics", "Metrics & alarms"),
    ("/drift", "Drift"),
)
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{background:#232f3e;color:#fff;padding:8px 20px;display:flex;gap:18px;align-items:center}
header b{font-size:16px;margin-right:12px}header a{color:#d5dbe3;text-decoration:none}
header a.on{color:#fff;border-bottom:2px solid #ff9900}
main{padding:16px 20px;max-width:1400px}h1{font-size:20px;margin:4px 0 12px}h2{font-size:16px;margin:18px 0 8px}
table{border-collapse:collapse;background:#fff;margin-bottom:12px}
th,td{padding:4px 10px;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{padding:1px 7px;border-radius:9px;font-size:12px;font-weight:600}
.SUCCEEDED,.OK,.pass{background:#d8f0dc;color:#1e6b2c}.FAILED,.ALARM,.fail,.TIMED_OUT,.ABORTED{background:#f8d0d0;color:#8a1c1c}
.RUNNING{background:#d6e6fb;color:#1b4f91}.INSUFFICIENT_DATA,.CAUGHT,.NOT_RUN{background:#eee;color:#555}
.card{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:10px 14px;margin-bottom:14px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(430px,1fr));gap:14px}
.muted{color:#6b7380}.error{background:#fff3f3;border:1px solid #f0b4b4;padding:8px 12px;border-radius:6px}
pre{background:#f5f6f8;padding:6px 8px;max-height:320px;overflow:auto;font-size:12px;margin:4px 0}
details summary{cursor:pointer;color:#1b4f91}svg text{font-family:system-ui,sans-serif}
.periods a{margin-right:10px}.periods a.on{font-weight:700}
"""


def page(title: str, active: str, body: str, script: str = "") -> str:
    links = "".join(
        f'<a href="{href}"{" class=on" if href == active else ""}>{escape(label)}</a>' for href, label in NAV
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} · rps local console</title>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<style>{CSS}</style></head><body><header><b>rps local console</b>{links}</header>"
        f"<main><h1>{escape(title)}</h1>{body}</main>"
        + (f"<script>{script}</script>" if script else "")
        + "</body></html>"
    )


def status_badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(status)}</span>'


def fmt_time(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def fmt_num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, int | float):
        return f"{value:.{digits}g}" if abs(value) < 1e4 else f"{value:.0f}"
    return escape(str(value))


def json_block(value: Any, limit: int = 20_000) -> str:
    text = json.dumps(value, indent=1, default=str) if not isinstance(value, str) else value
    if len(text) > limit:
        text = text[:limit] + f"\n… ({len(text) - limit} more characters)"
    return f"<pre>{escape(text)}</pre>"
