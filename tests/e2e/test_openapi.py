"""/openapi.json: a valid document that says what every route takes and answers, and that the running
platform keeps to, checked by fuzzing it with schemathesis (bounded) anonymously, as a citizen and as an admin."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

# schemathesis' fuzzing, bounded: examples per operation and a wall-clock ceiling per caller; one worker:
# hypothesis describing its strategies from several threads at once trips CPython 3.11's parser
MAX_EXAMPLES = int(os.environ.get("AGORA_FUZZ_EXAMPLES", "5"))
FUZZ_SECONDS = 120
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# a webhook makes the platform call the URL it names: fuzzed URLs would reach hosts beyond this machine
EXCLUDED = ("POST /api/v1/cities/{city}/webhooks",)


@pytest.fixture(scope="module")
def document(platform):
    return requests.get(platform.url + "/openapi.json", timeout=10).json()


def test_the_document_is_valid_openapi(document):
    from openapi_spec_validator import validate

    validate(document)


def test_every_route_documents_its_parameters_body_and_answer(document):
    operations = [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]
    assert len(operations) >= 70
    for path, method, op in operations:
        for param in op["parameters"]:
            assert param.get("schema"), (method, path, param["name"])
        success = next(code for code in op["responses"] if code != "default")
        if success != "204":
            content = op["responses"][success]["content"]
            assert any(media.get("schema") for media in content.values()), (method, path)
            if "application/json" in content:
                assert "$ref" in content["application/json"]["schema"], (method, path)
        body = op.get("requestBody")
        if body and "application/json" in body["content"]:
            schema = document["components"]["schemas"][body["content"]["application/json"]["schema"]["$ref"].split("/")[-1]]
            assert body["required"] == bool(schema.get("required")), (method, path)


def test_a_required_body_left_out_is_422(api, city):
    r = api.post(f"/cities/{city['slug']}/projects", token=city["admin_token"])
    assert r.status_code == 422 and {d["field"] for d in r.json()["error"]["details"]} >= {"title", "method"}
    r = api.post(f"/cities/{city['slug']}/users")
    assert r.status_code == 422


def _seed(api, city):
    """A city with something behind every kind of id, so that fuzzed requests reach the handlers."""
    slug, admin = city["slug"], city["admin_token"]
    citizen, author = api.new_user(city), api.new_user(city)

    def made(r):
        assert r.status_code in (200, 201), r.text
        return r.json()

    project = made(api.post(f"/cities/{slug}/projects", token=admin,
                            json={"title": {"en": "Parks"}, "method": "ideation", "status": "active"}))
    idea = made(api.post(f"/cities/{slug}/projects/{project['id']}/ideas", token=author["token"],
                         json={"title": "More trees", "body": "Shade on the square."}))
    comment = made(api.post(f"/cities/{slug}/ideas/{idea['id']}/comments", token=citizen["token"],
                            json={"body": "Yes please"}))
    return {"path.city": slug, "path.project_id": project["id"], "path.idea_id": idea["id"],
            "path.comment_id": comment["id"], "path.user_id": citizen["id"], "path.target_id": idea["id"],
            "path.item_id": idea["id"], "path.webhook_id": idea["id"]}, citizen


def _fuzz(platform, tmp_path: Path, parameters: dict, who: str, token: str | None) -> dict:
    config = tmp_path / f"schemathesis-{who}.toml"
    config.write_text("[parameters]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in parameters.items()))
    report = tmp_path / f"report-{who}.json"
    command = [
        str(Path(sys.executable).with_name("st")), "--config-file", str(config), "run",
        platform.url + "/openapi.json", "--url", platform.url, "--checks", CHECKS, "--phases", "examples,fuzzing",
        "--max-examples", str(MAX_EXAMPLES), "--workers", "1", "--seed", "17", "--no-shrink", "--request-timeout", "20",
        "--report", "json", "--report-json-path", str(report), "--warnings", "off",
        *[arg for op in EXCLUDED for arg in ("--exclude-by", f'method == "{op.split()[0]}" && path == "{op.split()[1]}"')],
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=FUZZ_SECONDS + 60)
    return {"code": done.returncode, "out": done.stdout[-6000:] + done.stderr[-2000:],
            "report": json.loads(report.read_text()) if report.exists() else None}


def test_fuzzing_finds_no_server_error_and_no_answer_outside_the_schema(api, platform, tmp_path):
    city = api.new_city()
    parameters, citizen = _seed(api, city)
    results = {who: _fuzz(platform, tmp_path, parameters, who, token)
               for who, token in (("anonymous", None), ("citizen", citizen["token"]), ("admin", city["admin_token"]))}
    for who, result in results.items():
        print(f"schemathesis {who}:", result["out"][-1500:])
    for who, result in results.items():
        assert result["code"] == 0, f"{who}:\n{result['out']}"
