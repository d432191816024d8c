"""template.yaml → CloudFormation for the local cloud, and the clear errors on bad input: each names the
file and the problem, and nothing starts (``LocalCloud.start`` fails before moto runs)."""

from __future__ import annotations

import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rps_local.emulator.cloud import LocalCloud
from rps_local.emulator.cloudformation.template import code_dir_of_key, prepare
from rps_local.emulator.endpoints import write_endpoints
from rps_local.emulator.errors import (
    AslError,
    CodeUriError,
    LocalCloudError,
    MlflowServerError,
    PortInUseError,
    TemplateError,
)

TOY = Path(__file__).resolve().parents[1] / "integration" / "fixtures" / "toy"


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    shutil.copytree(TOY, tmp_path / "toy")
    return tmp_path / "toy"


def test_toy_template_translates_with_local_code(toy):
    prepared = prepare(toy / "template.yaml")
    resources = prepared.cfn["Resources"]
    assert "Transform" not in prepared.cfn
    assert resources["EchoFunction"]["Type"] == "AWS::Lambda::Function"
    key = resources["EchoFunction"]["Properties"]["Code"]["S3Key"]
    assert code_dir_of_key(key) == (toy / "functions").resolve()
    machine = resources["ToyStateMachine"]["Properties"]
    assert "DefinitionS3Location" not in machine
    assert "${EchoFunctionArn}" in machine["DefinitionString"]
    assert set(machine["DefinitionSubstitutions"]) == {"EchoFunctionArn", "FlakyFunctionArn", "CheckFunctionArn"}


def _start(toy: Path, **options) -> None:
    LocalCloud(toy, state_dir=toy / ".rps", mlflow=False, schedules=False, **options).start()


def test_malformed_yaml_names_the_file_and_line(toy):
    (toy / "template.yaml").write_text("Resources:\n  A: [unclosed\n")
    with pytest.raises(TemplateError, match=r"template.yaml: not valid YAML: .* line 3"):
        _start(toy)


def test_sam_rejection_names_the_resource(toy):
    text = (
        (toy / "template.yaml")
        .read_text()
        .replace("Handler: handlers.flaky", "Handler: handlers.flaky\n      Events: {E: {Type: Nope}}")
    )
    (toy / "template.yaml").write_text(text)
    with pytest.raises(TemplateError, match=r"template.yaml: SAM rejects the template: .*FlakyFunction"):
        _start(toy)


def test_missing_code_uri_names_the_function(toy):
    shutil.rmtree(toy / "layer")
    with pytest.raises(CodeUriError, match=r"template.yaml: ToyLayer: ContentUri 'layer/' is not a directory"):
        _start(toy)


def test_unknown_state_in_the_asl_file(toy):
    path = toy / "statemachine" / "toy.asl.json"
    path.write_text(path.read_text().replace('"Next": "Check"', '"Next": "Chek"'))
    with pytest.raises(AslError, match=r"toy.asl.json: state 'Flaky' .*Next names unknown state 'Chek'"):
        _start(toy)


def test_unresolved_substitution_in_the_asl_file(toy):
    path = toy / "statemachine" / "toy.asl.json"
    path.write_text(path.read_text().replace("${CheckFunctionArn}", "${CheckFunctionArnn}"))
    with pytest.raises(AslError, match=r"toy.asl.json: unresolved substitution \$\{CheckFunctionArnn\}"):
        _start(toy)


def test_unknown_parameter_override(toy):
    with pytest.raises(TemplateError, match="parameter Nope not declared"):
        _start(toy, parameter_overrides={"Nope": "1"})


def test_defaults_apply_only_to_declared_parameters_and_overrides_win(toy):
    # The toy declares Greeting, not GitCommit: the local cloud's commit default is left out, not an error
    prepared = prepare(toy / "template.yaml", None, {"Greeting": "from default", "GitCommit": "0123abc"})
    assert prepared.parameters == {"Greeting": "from default"}
    prepared = prepare(toy / "template.yaml", {"Greeting": "override"}, {"Greeting": "from default"})
    assert prepared.parameters == {"Greeting": "override"}


def test_port_in_use(toy):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"127.0.0.1:{port}: cannot serve the local cloud"):
            _start(toy, port=port)
    assert not (toy / ".rps" / "endpoints.json").exists()


def test_a_second_cloud_in_the_same_state_dir_is_refused(toy):
    class Status(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Status) as running:
        threading.Thread(target=running.serve_forever, daemon=True).start()
        control = f"http://127.0.0.1:{running.server_address[1]}"
        write_endpoints(toy / ".rps", {"control_url": control, "pid": 4242})
        try:
            with pytest.raises(LocalCloudError, match="a local cloud already runs here \\(pid 4242\\)"):
                _start(toy)
            assert (toy / ".rps" / "endpoints.json").exists()  # the running cloud's file is left alone
        finally:
            running.shutdown()


def test_missing_mlflow_environment_says_how_to_make_it(toy, monkeypatch):
    monkeypatch.setenv("RPS_MLFLOW_BIN", str(toy / "no-such-mlflow"))
    with pytest.raises(MlflowServerError, match="no-such-mlflow: the MLflow server is not installed: run make venv"):
        LocalCloud(toy, state_dir=toy / ".rps", schedules=False).start()
