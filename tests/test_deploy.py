"""deploy/: the Kubernetes manifests against the Kubernetes schemas, the compose stack against the
Compose specification, the configurations they carry through the real loader, Prometheus's config
through promtool, and the Dockerfile's promises (non-root, /readyz, var/ a volume, a complete wheel)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from dlp_gateway.config import load_config
from tests.helpers import ROOT, RULES

K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "deploy" / "compose.yaml"
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")  # oldest and newest we promise


def manifests() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        out += [(f"{path.name}:{doc['kind']}", doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in manifests() if doc["kind"] == kind]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(("name", "doc"), manifests(), ids=[name for name, _ in manifests()])
def test_manifests_are_valid_kubernetes(name: str, doc: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)  # raises on any unknown or invalid field


def test_kustomization_applies_every_manifest() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def test_the_pod_configuration_loads_and_matches_the_deployment(tmp_path: Path) -> None:
    """Assemble /srv/dlp/rules as the projected volume does, then check the Deployment against it."""
    [configmap] = by_kind("ConfigMap")
    [secret] = by_kind("Secret")
    for name, text in {**configmap["data"], **secret["stringData"]}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for policy in ("insurers.yaml", "rules.yaml"):  # the dlp-gateway-policy ConfigMap, from rules/
        shutil.copy(RULES / policy, tmp_path / policy)
    config = load_config(tmp_path)
    assert config.quarantine.dsn and config.registry.path == Path("/srv/dlp/registry/registry.idx")

    [deployment] = by_kind("Deployment")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert config.metrics is not None and config.console is not None
    assert ports == {"smtp": config.listen.port, "console": config.console.port, "metrics": config.metrics.port}
    assert "0.0.0.0" in (config.listen.host, config.metrics.host, config.console.host) * 3
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["terminationGracePeriodSeconds"] > config.smtp.shutdown_timeout
    assert spec["replicas"] >= 2 and pod["securityContext"]["runAsNonRoot"]
    projected = {
        s.get("configMap", s.get("secret", {})).get("name")
        for v in pod["volumes"]
        if "projected" in v
        for s in v["projected"]["sources"]
    }
    assert projected == {configmap["metadata"]["name"], secret["metadata"]["name"], "dlp-gateway-policy"}
    [hpa] = by_kind("HorizontalPodAutoscaler")
    [pdb] = by_kind("PodDisruptionBudget")
    assert hpa["spec"]["minReplicas"] >= 2 and pdb["spec"]["minAvailable"] >= 1
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]


def test_compose_file_follows_the_compose_specification() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_wiring(tmp_path: Path) -> None:
    stack = yaml.safe_load(COMPOSE.read_text())
    services = stack["services"]
    assert set(services) == {"postfix", "gateway", "postgres", "prometheus", "alertmanager"}
    for service in services.values():  # every file the stack mounts exists in the repository
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).exists(), source
    # The gateway's configuration, as mounted, loads; its quarantine is the stack's PostgreSQL.
    for volume in services["gateway"]["volumes"]:
        source, target = volume.split(":")[:2]
        if target.startswith("/srv/dlp/rules/"):
            shutil.copy(COMPOSE.parent / source, tmp_path / Path(target).name)
    config = load_config(tmp_path)
    assert config.quarantine.dsn is not None and "@postgres:" in config.quarantine.dsn
    assert config.metrics is not None and config.metrics.host == "0.0.0.0"
    # Postfix relays through the gateway (recipe c), rewritten to the gateway's service name.
    dockerfile = (COMPOSE.parent / "postfix" / "Dockerfile").read_text()
    assert "relayhost.main.cf" in dockerfile and "[gateway]:10025" in dockerfile
    assert config.listen.port == 10025


def test_compose_prometheus_config_passes_promtool(tmp_path: Path) -> None:
    shutil.copy(ROOT / "deploy" / "compose" / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copy(ROOT / "deploy" / "prometheus" / "alerts.yml", tmp_path / "alerts.yml")  # mounted beside it
    done = subprocess.run(
        ["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        check=False,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gateway:9125" in (tmp_path / "prometheus.yml").read_text()


def test_dockerfile_runs_non_root_with_readyz_and_a_var_volume() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM ", text, flags=re.MULTILINE)
    assert len(stages) >= 2  # multi-stage: no compiler or wheel cache in the runtime image
    assert re.search(r"^USER dlp$", text, flags=re.MULTILINE)
    assert "useradd --system --uid 10025" in text  # the uid the k8s securityContext runs as
    assert re.search(r"^HEALTHCHECK .*/readyz", text, flags=re.MULTILINE)
    assert 'VOLUME ["/srv/dlp/var"]' in text


def test_the_wheel_the_image_installs_is_complete(tmp_path: Path) -> None:
    """The Dockerfile installs a built wheel, not the source tree: templates must be inside it."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        check=False,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    [wheel] = tmp_path.glob("dlp_gateway-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {
        str(p.relative_to(ROOT)) for p in (ROOT / "dlp_gateway").rglob("*") if p.suffix in (".py", ".txt", ".html")
    }
    assert sources <= names, sorted(sources - names)[:5]
    assert not any(n.startswith(("tests/", "bench/", "fuzz/")) for n in names)


UNIT = ROOT / "deploy" / "systemd" / "dlp-gateway.service"


def _unit_here(tmp_path: Path) -> Path:
    """The unit with its ExecStart pointing at this checkout's installed command (systemd-analyze
    verify checks that the command exists and is executable)."""
    here = Path(sys.executable).parent / "dlp-gateway"
    unit = tmp_path / "dlp-gateway.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace("/opt/dlp-gateway/bin/dlp-gateway", str(here)))
    return unit


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(_unit_here(tmp_path))], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


def test_the_systemd_unit_is_sandboxed(tmp_path: Path) -> None:
    text = UNIT.read_text(encoding="utf-8")
    for line in (
        "User=dlp-gateway",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/dlp-gateway",
        "WorkingDirectory=/var/lib/dlp-gateway",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "CapabilityBoundingSet=",
    ):
        assert line in text.splitlines(), line
    proc = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(_unit_here(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", proc.stdout)
    assert m, proc.stdout[-500:] + proc.stderr
    assert float(m.group(1)) <= 2.0  # systemd's scale: 0 (locked down) to 10 (exposed); ≤ 2 is "OK"
