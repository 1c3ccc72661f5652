"""What every HTTP function shares: validation, and one error shape for every 4xx.

Errors look like {"error": "<code>", "message": "...", "problems": [{"field", "problem"}]}
so a client can always tell which field was wrong and why.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from functions.domain.campaigns import UnknownCampaign

logger = Logger()
MAX_DIGITS = 30  # far past any amount; Python refuses int strings over 4,300 digits with a bare ValueError


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.field = status, error, message, field


def unknown_campaign(campaign_id: str) -> ApiError:
    return ApiError(404, "unknown_campaign", str(UnknownCampaign(campaign_id)), "path.campaign_id")


def error_response(status: int, error: str, message: str, problems: list[dict[str, str]] | None = None) -> Response:
    body: dict[str, Any] = {"error": error, "message": message}
    if problems:
        body["problems"] = problems
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _field(loc: tuple | list) -> str:
    return ".".join(str(part) for part in loc if not isinstance(part, int) or part < 0) or "body"


def _refuse(problem: str, text: str) -> json.JSONDecodeError:
    return json.JSONDecodeError(problem, text, 0)


def strict_json(text: str) -> Any:
    """json.loads, refusing what no client means and what would crash the parser: NaN and
    Infinity, numbers of thousands of digits, nesting deep enough to exhaust the stack. Each is
    a JSONDecodeError, which Powertools reports as a validation error (a 400 below)."""
    def constant(name: str) -> Any:
        raise _refuse(f"{name} is not a JSON number", text)

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_DIGITS:
            raise _refuse(f"a number has more than {MAX_DIGITS} digits", text)
        return int(digits)

    try:
        return json.loads(text, parse_constant=constant, parse_int=integer)
    except RecursionError:
        raise _refuse("nested too deeply", text) from None


class _JsonBodies(OpenAPIRequestValidationMiddleware):
    """Bodies are JSON only. Powertools would also parse form and multipart bodies (a multipart
    type without a boundary raises a bare ValueError, a 5xx); here they are a 415 like any other type."""

    def _get_body(self, app: Any) -> Any:
        content_type = app.current_event.headers.get("content-type", "").strip().lower()
        if content_type and not content_type.startswith("application/json"):
            raise RequestUnsupportedContentType("Unsupported content type", errors=[])
        return super()._get_body(app)


def _problem(error: dict[str, Any]) -> dict[str, str]:
    """A validation error as {field, problem}. Pydantic's messages name the rule, never the input;
    its `input` (which may hold PII) is never read, nor is the name of a field we don't take,
    which the client chose (a form-encoded body's whole text can be such a name)."""
    if error.get("type") == "extra_forbidden":
        return {"field": _field(error["loc"][:-1]), "problem": "has a field it does not take (see /openapi.json)"}
    return {"field": _field(error["loc"]), "problem": error["msg"]}


def make_app(*routers: Router) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=strict_json)
    app._request_validation_middleware = _JsonBodies()  # where Powertools keeps its request validator

    @app.exception_handler(RequestValidationError)
    def invalid(error: RequestValidationError) -> Response:
        problems = error.errors()
        malformed = next((p for p in problems if p.get("type") == "json_invalid"), None)
        if malformed:  # the parser's own words (like "Expecting value") quote nothing of the body
            reason = f"not valid JSON: {(malformed.get('ctx') or {}).get('error') or 'unreadable'}"
            return error_response(400, "malformed_json", f"the body is {reason}",
                                  [{"field": "body", "problem": reason}])
        listed = [_problem(p) for p in problems]
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
