"""`make ui`: the Dagster webserver starts on 127.0.0.1 and shows the asset graph with its checks."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dagster_definitions_validate_through_workspace_yaml():
    dagster = Path(sys.executable).parent / "dagster"
    proc = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_icm_ui_serves_the_asset_graph(tmp_path):
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home"), "ICM_HOME": str(tmp_path / "icm")}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "icm"), "ui", "--port", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as r:
                    assert json.load(r)["dagster_webserver_version"]
                break
            except OSError:
                assert time.time() < deadline, "dagster webserver did not start"
                time.sleep(1)
        query = json.dumps({"query": "{ assetNodes { assetKey { path } hasAssetChecks } }"}).encode()
        nodes = []
        while time.time() < deadline and not nodes:   # the code server may still be loading
            req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=query,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                nodes = (json.load(r).get("data") or {}).get("assetNodes") or []
            time.sleep(1)
        keys = {"/".join(n["assetKey"]["path"]): n["hasAssetChecks"] for n in nodes}
        assert keys.get("warehouse_core") is True and "member_months" in keys
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
