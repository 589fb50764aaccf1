"""The OpenAPI 3.1 document, generated from the route table and its pydantic models.

Each route documents its path and query parameters with their schemas, its body (required when the
model has required fields: a body left out is validated as `{}`), its answer (`response=`, models in
gateway/responses.py; `produces` names the content types) and the error envelope for every other status.
"""
from __future__ import annotations

import re

from gateway.routing import PLATFORM, PUBLIC, ROUTES

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["code", "message"],
        }
    },
}


def _path_schema(name: str) -> dict:
    if name == "city":
        return {"type": "string", "pattern": r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"}
    if name.endswith("_id"):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def _not_null(schema: dict) -> dict:
    """A query parameter is absent or a string: `anyOf [X, null]` of an optional field is X."""
    options = schema.get("anyOf")
    if options:
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
            return {**kept[0], **rest}
    return schema


def _path(path: str) -> str:
    return "/api/v1" + re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", path)


def document() -> dict:
    components: dict = {"Error": ERROR}
    paths: dict = {}

    def register(name: str, schema: dict) -> None:
        if components.get(name, schema) != schema:
            raise ValueError(f"two different models are named {name} in the API's schemas")
        components[name] = schema

    def schema_ref(model, mode: str = "validation") -> dict:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
        for name, sub in schema.pop("$defs", {}).items():
            register(name, sub)
        register(model.__name__, schema)
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def query_parameters(model) -> list[dict]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            register(name, sub)
        required = set(schema.get("required", ()))
        return [
            {"name": name, "in": "query", "required": name in required, "description": prop.get("description", ""),
             "schema": _not_null(prop)}
            for name, prop in schema.get("properties", {}).items()
        ]

    for route in ROUTES:
        op: dict = {
            "summary": route.summary,
            "tags": [route.tag] if route.tag else [],
            "operationId": route.handler.__module__.rsplit(".", 1)[-1] + "_" + route.handler.__name__,
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
                for name in re.findall(r"<(?:[^:>]+:)?([^>]+)>", route.path)
            ],
            "responses": {
                str(route.status): {"description": "success" if route.status != 204 else "done, no content"},
                "default": {
                    "description": "error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        }
        if route.query is not None:
            op["parameters"].extend(query_parameters(route.query))
        if route.body is not None:
            required = any(f.is_required() for f in route.body.model_fields.values())
            op["requestBody"] = {"required": required,
                                 "content": {"application/json": {"schema": schema_ref(route.body)}}}
        elif route.raw_body:
            op["requestBody"] = {"required": True, "content": {route.raw_body: {"schema": {"type": "string"}}}}
        produces = (route.produces,) if isinstance(route.produces, str) else tuple(route.produces)
        if route.status != 204:
            op["responses"][str(route.status)]["content"] = {
                kind: {"schema": schema_ref(route.response_model, "serialization")
                       if kind == "application/json" and route.response is not None else
                       {} if kind == "application/json" else {"type": "string"}}
                for kind in produces
            }
        if route.auth == PLATFORM:
            op["security"] = [{"platformKey": []}]
        elif route.auth != PUBLIC:
            op["security"] = [{"bearer": []}]
            op["x-role"] = route.auth
        paths.setdefault(_path(route.path), {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Agora API", "version": "1"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "platformKey": {"type": "apiKey", "in": "header", "name": "X-Platform-Key"},
            },
        },
    }
