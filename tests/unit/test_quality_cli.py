"""``rps quality FILE [--now TIME]``: the report printed, exit 0 on pass, 1 on fail, 2 when unreadable."""

from __future__ import annotations

import json

from rps_core.sources import embedded_path, load_embedded
from rps_local.tools.cli.main import main


def test_the_embedded_history_passes_at_the_replay_start(capsys):
    assert main(["quality", str(embedded_path()), "--now", "2013-10-19T00:00"]) == 0
    out = capsys.readouterr().out
    assert out.count(": PASS") == 3 and "wind_speed_10m = 1687.2 at 2013-02-12T08:00" in out


def test_stale_data_fails_freshness_against_the_current_time(tmp_path, capsys):
    path = tmp_path / "jfk.json"
    path.write_text(json.dumps(load_embedded()[0]))
    assert main(["quality", str(path), "--output", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["location"] == "JFK" and report["failed_checks"] == ["freshness"]


def test_a_bad_payload_fails_and_names_the_check(tmp_path, capsys):
    path = tmp_path / "error.json"
    path.write_text("<html><body>502 Bad Gateway</body></html>")
    assert main(["quality", str(path), "--now", "2013-10-19T00:00", "--location", "JFK"]) == 1
    assert "FAIL schema" in capsys.readouterr().out


def test_an_unreadable_file_or_bad_setting_exits_2(tmp_path, capsys, monkeypatch):
    assert main(["quality", str(tmp_path / "missing.json")]) == 2
    monkeypatch.setenv("NULL_THRESHOLD", "lots")
    assert main(["quality", str(embedded_path())]) == 2
    assert "NULL_THRESHOLD" in capsys.readouterr().err
