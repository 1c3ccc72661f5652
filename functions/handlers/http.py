"""What every HTTP function shares: validation, and one error shape for every 4xx.

Errors look like {"error": "<code>", "message": "...", "problems": [{"field", "problem"}]}
so a client can always tell which field was wrong and why.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

logger = Logger()


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.field = status, error, message, field


def error_response(status: int, error: str, message: str, problems: list[dict[str, str]] | None = None) -> Response:
    body: dict[str, Any] = {"error": error, "message": message}
    if problems:
        body["problems"] = problems
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _field(loc: tuple | list) -> str:
    return ".".join(str(part) for part in loc if not isinstance(part, int) or part < 0) or "body"


def make_app(*routers: Router) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)
    def invalid(error: RequestValidationError) -> Response:
        problems = error.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(400, "malformed_json", "the body is not valid JSON",
                                  [{"field": "body", "problem": "not valid JSON"}])
        # Pydantic's messages name the rule, never echo the input (which may hold PII).
        listed = [{"field": _field(p["loc"]), "problem": p["msg"]} for p in problems]
        return error_response(422, "invalid_request", "; ".join(f"{p['field']}: {p['problem']}" for p in listed),
                              listed)

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported(_: RequestUnsupportedContentType) -> Response:
        return error_response(415, "unsupported_content_type", "send the body as application/json",
                              [{"field": "header.Content-Type", "problem": "must be application/json"}])

    @app.exception_handler(ApiError)
    def api_error(error: ApiError) -> Response:
        problems = [{"field": error.field, "problem": error.message}] if error.field else None
        return error_response(error.status, error.error, error.message, problems)

    @app.not_found
    def not_found(_: Exception) -> Response:
        return error_response(404, "not_found", "no such route")

    for router in routers:
        app.include_router(router)
    return app
