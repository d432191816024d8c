"""Bad input on the way to ``sam local`` against the local cloud: each is one clear line and exit 2, and nothing
is half-written. ``rps env-vars`` with no cloud, a stale endpoints.json (the cloud is gone) or one from another
version; ``rps up --host`` with an address no interface has or a name that does not resolve; ``rps up --port``
taken; ``rps env-vars --check`` with a missing, broken or stale ``--env-vars`` file. (A taken port inside
``LocalCloud.start`` is tested in test_localcloud_template, the 4566 fallback in test_localstack_clients.)"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rps_local.emulator.errors import HostAddressError, StaleEnvVarsError
from rps_local.emulator.network import check_host
from rps_local.tools.cli.cmd_env_vars import check as check_env_vars
from rps_local.tools.cli.cmd_env_vars import stale_entries
from rps_local.tools.cli.main import main

TOY = Path(__file__).resolve().parents[1] / "integration" / "fixtures" / "toy"
UNASSIGNED = "192.0.2.1"  # TEST-NET-1 (RFC 5737): no machine has it


def _rps_up(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``rps up`` in a process of its own (it installs signal handlers); bad input fails before anything starts."""
    command = [sys.executable, "-m", "rps_local.tools.cli.main", "up", "--project-dir", str(TOY), "--no-mlflow",
               "--no-schedules", "--state-dir", str(state_dir), *args]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


def test_env_vars_with_no_cloud_names_the_missing_file_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "env.json"
    assert main(["env-vars", "--state-dir", str(tmp_path / "none"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'none' / 'endpoints.json'}: no local cloud is running here: start one with `rps up`" in err
    assert not out.exists()


def test_env_vars_with_a_stale_endpoints_file_says_the_cloud_does_not_answer(tmp_path, capsys):
    with socket.socket() as gone:  # a port nothing listens on any more: the cloud that wrote the file stopped
        gone.bind(("127.0.0.1", 0))
        port = gone.getsockname()[1]
    state = tmp_path / "state"
    state.mkdir()
    endpoints = {"aws_endpoint_url": f"http://localhost:{port}", "control_url": f"http://127.0.0.1:{port}"}
    (state / "endpoints.json").write_text(json.dumps(endpoints))
    out = tmp_path / "env.json"
    assert main(["env-vars", "--state-dir", str(state), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"the local cloud at http://localhost:{port} does not answer (stopped?): start one with `rps up`" in err
    assert not out.exists()


@pytest.mark.parametrize("content", ['{"aws_endpoint_url": "http://localhost:4566"}', "[]", "{not json"])
def test_env_vars_with_a_foreign_or_broken_endpoints_file_is_a_clear_error(tmp_path, capsys, content):
    (tmp_path / "endpoints.json").write_text(content)
    assert main(["env-vars", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "restart the cloud with `rps up`" in err
    _no_traceback(err)


def test_check_host_accepts_what_rps_up_can_listen_on():
    for host in ("127.0.0.1", "0.0.0.0", "localhost"):
        check_host(host)


@pytest.mark.parametrize(
    ("host", "why"),
    [(UNASSIGNED, "this machine cannot listen there"), ("no-such-host.invalid", "not an address, nor a name")],
)
def test_check_host_names_an_address_it_cannot_listen_on(host, why):
    with pytest.raises(HostAddressError, match=f"--host {host}: {why}"):
        check_host(host)


@pytest.mark.parametrize("port_args", [(), ("--port", "0")])  # the 4566 default too: not "port 4566 is taken"
def test_rps_up_with_an_unreachable_host_exits_2_before_starting_anything(tmp_path, port_args):
    done = _rps_up(tmp_path / "state", "--host", UNASSIGNED, *port_args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"rps up: error: --host {UNASSIGNED}: this machine cannot listen there" in done.stderr
    assert "0.0.0.0 (every interface: containers reach it)" in done.stderr
    assert "is taken" not in done.stdout
    _no_traceback(done.stderr)
    assert not (tmp_path / "state" / "endpoints.json").exists()


def test_rps_up_on_a_taken_port_exits_2_naming_the_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _rps_up(tmp_path / "state", "--port", str(port))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"rps up: error: 127.0.0.1:{port}: cannot serve the local cloud there" in done.stderr
    assert "use another --port, or 0 for a free one" in done.stderr
    _no_traceback(done.stderr)
    assert not (tmp_path / "state" / "endpoints.json").exists()


# ``rps env-vars --check FILE``: an --env-vars file from an earlier cloud (another port, other bucket names)
CURRENT = {
    "PlanFunction": {"AWS_ENDPOINT_URL": "http://localhost:4566", "DATA_BUCKET": "rps-databucket-new"},
    "ServingFunction": {"AWS_ENDPOINT_URL": "http://localhost:4566", "MODEL_BUCKET": "rps-modelbucket-new"},
}


def _written(**changes: dict[str, str]) -> dict[str, dict[str, str]]:
    written = {fn: {**v, "AWS_ENDPOINT_URL": "http://host.containers.internal:4566"} for fn, v in CURRENT.items()}
    for fn, variables in changes.items():
        written[fn] = {**written[fn], **variables}
    return written


def test_an_env_vars_file_of_this_cloud_is_not_stale_whatever_host_it_names():
    assert stale_entries(_written(), CURRENT) == []


def test_a_stale_env_vars_file_names_each_difference():
    written = _written(PlanFunction={"DATA_BUCKET": "rps-databucket-old", "AWS_ENDPOINT_URL": "http://h:4567"})
    del written["ServingFunction"]
    written["GoneFunction"] = {}
    assert stale_entries(written, CURRENT) == [
        "GoneFunction: no such function in the running stack",
        "PlanFunction: AWS_ENDPOINT_URL 'http://h:4567' is not the cloud's port 4566",
        "PlanFunction: DATA_BUCKET is 'rps-databucket-old', the running cloud has 'rps-databucket-new'",
        "ServingFunction: missing",
    ]
    assert stale_entries([], CURRENT) == ["not a JSON object of {function: {variable: value}}"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "env.json: no such file: write it again: rps env-vars --endpoint-host HOST --out"),
        ("{oops", "env.json: unreadable ("),
        (json.dumps(_written(PlanFunction={"DATA_BUCKET": "old"})), "env.json is stale (from another cloud?): "
         "PlanFunction: DATA_BUCKET is 'old', the running cloud has 'rps-databucket-new': write it again"),
    ],
)  # fmt: skip
def test_check_raises_a_named_error_for_a_missing_broken_or_stale_file(tmp_path, content, message):
    path = tmp_path / "env.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(StaleEnvVarsError) as raised:
        check_env_vars(path, CURRENT)
    assert message in str(raised.value)
