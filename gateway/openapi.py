"""The OpenAPI 3.1 document, generated from the route table and its pydantic models."""
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


def _path(path: str) -> str:
    return "/api/v1" + re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", path)


def document() -> dict:
    components: dict = {"Error": ERROR}
    paths: dict = {}

    def schema_ref(model) -> dict:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            components[name] = sub
        components[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    for route in ROUTES:
        op: dict = {
            "summary": route.summary,
            "tags": [route.tag] if route.tag else [],
            "operationId": route.handler.__module__.rsplit(".", 1)[-1] + "_" + route.handler.__name__,
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in re.findall(r"<(?:[^:>]+:)?([^>]+)>", route.path)
            ],
            "responses": {
                str(route.status): {"description": "success"},
                "default": {
                    "description": "error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        }
        if route.query is not None:
            for name, field in route.query.model_fields.items():
                op["parameters"].append(
                    {"name": field.alias or name, "in": "query", "required": field.is_required(),
                     "description": field.description or ""}
                )
        if route.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema_ref(route.body)}}}
        elif route.raw_body:
            op["requestBody"] = {"required": True, "content": {route.raw_body: {"schema": {"type": "string"}}}}
        if route.response is not None:
            op["responses"][str(route.status)]["content"] = {
                route.produces: {"schema": schema_ref(route.response)}
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
