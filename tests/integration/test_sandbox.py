"""The sandbox over real HTTP: each provider API as its document says, faults, records, speed."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import queue
import re
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import h11
import httpx
import pytest
from sandbox_fixture import SandboxControl, sandbox_process

from dialer.sandbox import SandboxServer

PHONE = "+15055550123"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


# Clients live for the module: building an httpx client loads the CA bundle, which costs more
# than most of these tests.
@pytest.fixture(scope="module")
def module_control(server: SandboxServer) -> Iterator[SandboxControl]:
    with SandboxControl(server.url) as control:
        yield control


@pytest.fixture(scope="module")
def module_client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5) as client:
        yield client


@pytest.fixture
def control(module_control: SandboxControl) -> SandboxControl:
    """The control client, on a sandbox reset to its startup state."""
    module_control.clear()
    return module_control


@pytest.fixture
def client(module_client: httpx.Client, control: SandboxControl) -> httpx.Client:
    """A client of the provider routes, on a freshly reset sandbox."""
    return module_client


# -- one valid call request per route, reused by the generic tests ---------------------------

LIBBY_KEY = {"x-api-key": "key-1"}
ALLOMIA_KEY = {"authorization": "Bearer key-1"}
TRILLET_KEYS = {"x-workspace-id": "ws-1", "x-api-key": "key-1"}
POLYAI_KEY = {"x-polyai-auth-token": "token-1"}


def libby_body(phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    return {
        "agentId": "0b6d5c3e-8a39-4c1e-9a39-2f1c4a5b6c7d",
        "contact": {"phoneNumber": phone, "firstName": "Jane"},
        "introMessage": "Hi Jane",
        "voicemailMessage": "Sorry we missed you",
        **extra,
    }


def legacy_body(phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    return {"name": "Chris", "toPhoneNumber": phone, "fromPhoneNumber": "+15055550199", **extra}


def allomia_body(phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    return {"phoneNumber": phone, "assistantId": "a-1", "phoneNumberId": "n-1", **extra}


def trillet_body(phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    return {"to": phone, "call_agent_id": "a1b2c3", **extra}


def polyai_body(phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    return {"to_number": phone, **extra}


def native_body(phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    return {"to": phone, "attempt": "k-1", "campaign": "c", "variables": {"a": "b"}, **extra}


def legacy_token(client: httpx.Client, **form: str) -> str:
    fields = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "s"}
    response = client.post("/oauth2/token", data={**fields, **form})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def place(client: httpx.Client, kind: str, phone: str = PHONE, **kw: Any) -> httpx.Response:
    """One valid call-placing request of provider ``kind`` for ``phone``."""
    if kind == "libby":
        return client.post("/api/v1/outbound/call", headers=LIBBY_KEY, json=libby_body(phone), **kw)
    if kind == "libby-legacy":
        headers = {"authorization": f"Bearer {legacy_token(client)}"}
        return client.post("/outbound", headers=headers, json=legacy_body(phone), **kw)
    if kind == "allomia":
        return client.post("/api/outbound", headers=ALLOMIA_KEY, json=allomia_body(phone), **kw)
    if kind == "trillet":
        return client.post("/v1/api/call", headers=TRILLET_KEYS, json=trillet_body(phone), **kw)
    if kind == "polyai":
        return client.post(
            "/v1/outbound-calling", headers=POLYAI_KEY, json=polyai_body(phone), **kw
        )
    return client.post("/sandbox/call", json=native_body(phone), **kw)


KINDS = ["libby", "libby-legacy", "allomia", "trillet", "polyai", "sandbox"]
CALL_ROUTES = [
    ("/api/v1/outbound/call", LIBBY_KEY),
    ("/api/outbound", ALLOMIA_KEY),
    ("/v1/api/call", TRILLET_KEYS),
    ("/v1/outbound-calling", POLYAI_KEY),
    ("/sandbox/call", {}),
]


# -- libby ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        libby_body(),
        {**libby_body(introMessage=None, voicemailMessage=None), "callInstructions": "Be nice"},
    ],
    ids=["intro+voicemail", "instructions"],
)
def test_libby_schedules_the_call(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post("/api/v1/outbound/call", headers=LIBBY_KEY, json=body)
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "message": "Your call has been scheduled and will be placed shortly.",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"agentId": None}, "agentId is required"),
        ({"contact": None}, "contact is required"),
        ({"contact": {"firstName": "Jane"}}, "contact.phoneNumber is required"),
        ({"voicemailMessage": None}, "introMessage and voicemailMessage must be sent together"),
        ({"introMessage": None}, "introMessage and voicemailMessage must be sent together"),
        ({"callInstructions": "x"}, "callInstructions must be used alone"),
        (
            {"introMessage": None, "voicemailMessage": None},
            "introMessage and voicemailMessage, or callInstructions, are required",
        ),
        ({"metadata": {"goals": ["a"]}}, "metadata.goals must be a string or number or boolean"),
    ],
)
def test_libby_rejects_what_its_document_forbids(
    client: httpx.Client, change: dict[str, Any], message: str
) -> None:
    body = {k: v for k, v in {**libby_body(), **change}.items() if v is not None}
    response = client.post("/api/v1/outbound/call", headers=LIBBY_KEY, json=body)
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_libby_accepts_scalar_metadata(client: httpx.Client) -> None:
    body = libby_body(metadata={"utmSource": "facebook", "visits": 3, "member": True})
    assert client.post("/api/v1/outbound/call", headers=LIBBY_KEY, json=body).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"x-api-key": ""}, {"x-api-key": "bad"}])
def test_libby_refuses_a_missing_or_bad_key(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.post("/api/v1/outbound/call", headers=headers, json=libby_body())
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


# -- libby-legacy -----------------------------------------------------------------------------


def test_legacy_token_then_call(client: httpx.Client) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": "id",
        "client_secret": "secret",
        "scope": "external-api-resource-server-1/call.out",
    }
    token = client.post("/oauth2/token", data=form)
    assert token.status_code == 200
    assert token.json()["token_type"] == "Bearer"
    assert token.json()["expires_in"] == 3600
    headers = {"authorization": f"Bearer {token.json()['access_token']}"}
    body = legacy_body(
        introNotes="We plan events",
        customQuestions=["Interested?"],
        customRules=["Be friendly"],
        formInfo=[{"Budget?": "100"}],
    )
    response = client.post("/outbound", headers=headers, json=body)
    assert (response.status_code, response.json()) == (200, {"message": "Outbound call processed"})


def test_legacy_token_by_basic_auth(client: httpx.Client) -> None:
    basic = base64.b64encode(b"id:secret").decode()
    response = client.post(
        "/oauth2/token",
        headers={"authorization": f"Basic {basic}"},
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"client_secret": "bad"}, "invalid_client"),
        ({"client_secret": ""}, "invalid_client"),
    ],
)
def test_legacy_token_errors(client: httpx.Client, form: dict[str, str], error: str) -> None:
    fields = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "s"}
    response = client.post("/oauth2/token", data={**fields, **form})
    assert (response.status_code, response.json()) == (400, {"error": error})


@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Basic abc"])
def test_legacy_refuses_without_a_token_it_issued(
    client: httpx.Client, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    response = client.post("/outbound", headers=headers, json=legacy_body())
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden: Incorrect scopes"}


def test_legacy_refuses_a_token_without_the_call_scope(client: httpx.Client) -> None:
    token = legacy_token(client, scope="external-api-resource-server-1/read")
    response = client.post(
        "/outbound", headers={"authorization": f"Bearer {token}"}, json=legacy_body()
    )
    assert response.status_code == 403


def test_legacy_token_expires(client: httpx.Client, control: SandboxControl) -> None:
    control.configure(token_ttl=1)
    response = client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "id", "client_secret": "s"},
    )
    assert response.json()["expires_in"] == 1
    headers = {"authorization": f"Bearer {response.json()['access_token']}"}
    assert client.post("/outbound", headers=headers, json=legacy_body()).status_code == 200
    time.sleep(1.05)
    assert client.post("/outbound", headers=headers, json=legacy_body()).status_code == 403


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": None}, "name is required"),
        ({"toPhoneNumber": "5055550123"}, "toPhoneNumber must be in E.164 format"),
        ({"customQuestions": "one"}, "customQuestions must be an array of strings"),
        ({"formInfo": ["x"]}, "formInfo must be an array of objects"),
    ],
)
def test_legacy_validates_the_body(
    client: httpx.Client, change: dict[str, Any], message: str
) -> None:
    body = {k: v for k, v in {**legacy_body(), **change}.items() if v is not None}
    headers = {"authorization": f"Bearer {legacy_token(client)}"}
    response = client.post("/outbound", headers=headers, json=body)
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


# -- allomia ----------------------------------------------------------------------------------


def test_allomia_dispatches_and_reports_status(
    client: httpx.Client, control: SandboxControl
) -> None:
    control.configure(call_duration_ms=0, outcomes={"+15055550124": "busy"})
    response = client.post(
        "/api/outbound",
        headers=ALLOMIA_KEY,
        json=allomia_body(customerName="John", dynamicVariables={"slot": "10:00"}),
    )
    assert response.status_code == 200
    placed = response.json()
    assert UUID.match(placed["outboundCallId"]) and UUID.match(placed["contactId"])
    assert placed["status"] == "calling"
    assert placed["message"] == "Outbound call dispatched"
    status = client.get(f"/api/outbound/{placed['outboundCallId']}", headers=ALLOMIA_KEY).json()
    assert status["status"] == "completed"
    assert status["outboundCallId"] == placed["outboundCallId"]
    assert status["contactId"] == placed["contactId"]
    busy = place(client, "allomia", "+15055550124").json()["outboundCallId"]
    assert client.get(f"/api/outbound/{busy}", headers=ALLOMIA_KEY).json()["status"] == "busy"


def test_allomia_status_is_calling_until_the_call_ends(client: httpx.Client) -> None:
    call_id = place(client, "allomia").json()["outboundCallId"]
    status = client.get(f"/api/outbound/{call_id}", headers=ALLOMIA_KEY).json()
    assert (status["status"], status["endedAt"]) == ("calling", None)


def test_allomia_status_of_an_unknown_call(client: httpx.Client) -> None:
    response = client.get(f"/api/outbound/{uuid.uuid4()}", headers=ALLOMIA_KEY)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (
            allomia_body("+1505"),
            [
                {
                    "field": "phoneNumber",
                    "message": "Phone number must be at least 10 digits",
                    "code": "too_small",
                }
            ],
        ),
        (
            allomia_body("+1" + "5" * 19),
            [
                {
                    "field": "phoneNumber",
                    "message": "Phone number must be at most 20 digits",
                    "code": "too_big",
                }
            ],
        ),
        (
            {"phoneNumber": PHONE},
            [
                {"field": "assistantId", "message": "Required", "code": "invalid_type"},
                {"field": "phoneNumberId", "message": "Required", "code": "invalid_type"},
            ],
        ),
        (
            allomia_body(dynamicVariables={"id": 12345}),
            [
                {
                    "field": "dynamicVariables.id",
                    "message": "Expected string, received number",
                    "code": "invalid_type",
                }
            ],
        ),
        (
            allomia_body(callbackUrl="not a url"),
            [{"field": "callbackUrl", "message": "Invalid url", "code": "invalid_string"}],
        ),
    ],
    ids=["short", "long", "missing-ids", "variable-type", "callback-url"],
)
def test_allomia_validation_details(
    client: httpx.Client, body: dict[str, Any], details: list[dict[str, str]]
) -> None:
    response = client.post("/api/outbound", headers=ALLOMIA_KEY, json=body)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request data", "details": details}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer"},
        {"authorization": "Token k"},
        {"authorization": "Bearer bad"},
    ],
)
def test_allomia_refuses_a_missing_or_bad_key(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    response = client.post("/api/outbound", headers=headers, json=allomia_body())
    assert (response.status_code, response.json()) == (401, {"error": "Invalid or missing API key"})


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue[dict[str, Any]]]]:
    """A webhook receiver: its URL, and the JSON bodies POSTed to it."""
    received: queue.Queue[dict[str, Any]] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.put(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    http_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http_server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http_server.server_address[1]}/hook", received
    http_server.shutdown()
    http_server.server_close()


def test_allomia_posts_the_terminal_state_to_the_callback(
    client: httpx.Client,
    control: SandboxControl,
    receiver: tuple[str, queue.Queue[dict[str, Any]]],
) -> None:
    url, received = receiver
    control.configure(call_duration_ms=50, outcomes={PHONE: "no-answer"})
    body = allomia_body(callbackUrl=url)
    call_id = client.post("/api/outbound", headers=ALLOMIA_KEY, json=body).json()["outboundCallId"]
    hook = received.get(timeout=5)
    assert hook["outboundCallId"] == call_id
    assert hook["status"] == "no-answer"
    assert hook == client.get(f"/api/outbound/{call_id}", headers=ALLOMIA_KEY).json()


def test_allomia_webhooks_can_be_turned_off(
    client: httpx.Client,
    control: SandboxControl,
    receiver: tuple[str, queue.Queue[dict[str, Any]]],
) -> None:
    url, received = receiver
    control.configure(call_duration_ms=0, webhooks=False)
    client.post("/api/outbound", headers=ALLOMIA_KEY, json=allomia_body(callbackUrl=url))
    with pytest.raises(queue.Empty):
        received.get(timeout=0.3)


# -- trillet ----------------------------------------------------------------------------------


def test_trillet_schedules_the_job(client: httpx.Client) -> None:
    body = trillet_body(dynamic_variables={"firstName": "Jo"}, metadata={"k": "v"})
    response = client.post("/v1/api/call", headers={"x-workspace-id": "ws-1"}, json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "success"
    assert answer["message"] == f"Outbound call job scheduled for agent a1b2c3 to number {PHONE}"
    assert re.fullmatch(r"[0-9a-f]{24}", answer["callId"])
    assert re.fullmatch(r"a1b2c3-[a-z0-9]{10}", answer["roomName"])
    assert answer["jobId"].isdigit()


def test_trillet_can_spell_call_id_the_other_way(
    client: httpx.Client, control: SandboxControl
) -> None:
    control.configure(trillet_call_id_field="call_id")
    answer = place(client, "trillet").json()
    assert "callId" not in answer
    assert re.fullmatch(r"[0-9a-f]{24}", answer["call_id"])


@pytest.mark.parametrize(
    "headers", [{}, {"x-workspace-id": "bad"}, {"x-workspace-id": "ws", "x-api-key": "bad"}]
)
def test_trillet_needs_a_workspace(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.post("/v1/api/call", headers=headers, json=trillet_body())
    assert response.status_code == 401
    assert response.json()["status"] == "error"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"to": None}, "to is required"),
        ({"call_agent_id": ""}, "call_agent_id is required"),
        ({"metadata": "x"}, "metadata must be an object"),
    ],
)
def test_trillet_validates_the_body(
    client: httpx.Client, change: dict[str, Any], message: str
) -> None:
    body = {k: v for k, v in {**trillet_body(), **change}.items() if v is not None}
    response = client.post("/v1/api/call", headers=TRILLET_KEYS, json=body)
    assert (response.status_code, response.json()) == (400, {"status": "error", "message": message})


# -- polyai -----------------------------------------------------------------------------------


def test_polyai_triggers_and_reports_status(client: httpx.Client, control: SandboxControl) -> None:
    body = polyai_body(metadata={"first_name": "Paul"}, encryption="UDP/RTP")
    response = client.post("/v1/outbound-calling", headers=POLYAI_KEY, json=body)
    assert response.status_code == 200
    sid = response.json()["call_sid"]
    assert sid.startswith("OUT-") and UUID.match(sid.removeprefix("OUT-"))
    status = client.get(f"/v1/outbound-calling/{sid}", headers=POLYAI_KEY)
    assert status.json() == {"call_sid": sid, "status": "calling"}
    control.configure(call_duration_ms=0, outcomes={"+15055550124": "failed"})
    done = place(client, "polyai").json()["call_sid"]
    assert (
        client.get(f"/v1/outbound-calling/{done}", headers=POLYAI_KEY).json()["status"] == "success"
    )
    failed = place(client, "polyai", "+15055550124").json()["call_sid"]
    assert (
        client.get(f"/v1/outbound-calling/{failed}", headers=POLYAI_KEY).json()["status"]
        == "failure"
    )


def test_polyai_takes_a_national_number_with_a_country_code(client: httpx.Client) -> None:
    body = polyai_body("(505) 555-0123", country_code="US")
    assert client.post("/v1/outbound-calling", headers=POLYAI_KEY, json=body).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (polyai_body("5055550123"), "to_number must be in E.164 format"),
        (polyai_body("5055550123", country_code="usa"), "country_code must be an ISO 3166-1"),
        (polyai_body(metadata={"age": 40}), "metadata.age must be a string"),
        (polyai_body(metadata={"blob": "x" * 19_500}), "metadata exceeds the 26 KB"),
        (polyai_body(encryption="TLS"), "encryption must be one of"),
    ],
)
def test_polyai_validates_the_body(
    client: httpx.Client, body: dict[str, Any], message: str
) -> None:
    response = client.post("/v1/outbound-calling", headers=POLYAI_KEY, json=body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)


def test_polyai_metadata_just_under_the_limit_passes(client: httpx.Client) -> None:
    body = polyai_body(metadata={"blob": "x" * 19_000})  # base64 of its JSON: ~25.4 KB
    assert client.post("/v1/outbound-calling", headers=POLYAI_KEY, json=body).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"x-polyai-auth-token": "bad"}])
def test_polyai_refuses_a_missing_or_bad_token(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    response = client.post("/v1/outbound-calling", headers=headers, json=polyai_body())
    assert response.status_code == 401
    assert client.get("/v1/outbound-calling/OUT-x", headers=headers).status_code == 401


# -- the sandbox's own kind --------------------------------------------------------------------


def test_native_call_and_status(client: httpx.Client, control: SandboxControl) -> None:
    control.configure(call_duration_ms=0)
    response = client.post("/sandbox/call", json=native_body(messages={"intro": "Hi"}))
    assert response.status_code == 200
    call_id = response.json()["call_id"]
    assert call_id.startswith("SBX-") and UUID.match(call_id.removeprefix("SBX-"))
    status = client.get(f"/sandbox/call/{call_id}").json()
    assert status == {
        "call_id": call_id,
        "status": "completed",
        "to": PHONE,
        "attempt": "k-1",
        "campaign": "c",
    }


def test_native_validates_the_number(client: httpx.Client) -> None:
    response = client.post("/sandbox/call", json=native_body("12"))
    assert response.status_code == 400
    assert response.json()["error"].startswith("to must be in E.164 format")


# -- every route ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "headers"), CALL_ROUTES)
def test_bad_json_is_a_400(client: httpx.Client, path: str, headers: dict[str, str]) -> None:
    sent = {**headers, "content-type": "application/json"}
    assert client.post(path, headers=sent, content=b'{"to": ').status_code == 400
    assert client.post(path, headers=sent, content=b"[1, 2]").status_code == 400
    assert client.post(path, headers=headers, data={"to": PHONE}).status_code == 400


def test_unknown_paths_and_methods(client: httpx.Client) -> None:
    assert client.post("/v2/call", json={}).status_code == 404
    assert client.get("/_sandbox/nothing").status_code == 404
    assert client.get("/sandbox/call").status_code == 405
    assert client.delete("/v1/api/call").json() == {
        "status": "error",
        "message": "Method Not Allowed",
    }


def test_malformed_http_is_answered_400(server: SandboxServer) -> None:
    async def send_garbage() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
        return answer

    assert asyncio.run(send_garbage()).startswith(b"HTTP/1.1 400")


# -- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("action", ["500", "503", "400", "401", "403"])
def test_a_status_rule_answers_that_status_on_every_provider(
    client: httpx.Client, control: SandboxControl, kind: str, action: str
) -> None:
    control.add_rule(PHONE, action)
    assert place(client, kind).status_code == int(action)
    assert place(client, kind, "+15055550124").status_code == 200


def test_fault_bodies_keep_the_provider_shape(
    client: httpx.Client, control: SandboxControl
) -> None:
    control.add_rule(PHONE, "401")
    assert place(client, "libby").json() == {"message": "Unauthorized"}
    assert place(client, "trillet").json() == {"status": "error", "message": "Unauthorized"}


def test_429_with_retry_after_seconds(client: httpx.Client, control: SandboxControl) -> None:
    control.add_rule(PHONE, "429", retry_after="2")
    response = place(client, "polyai")
    assert (response.status_code, response.headers["retry-after"]) == (429, "2")


def test_503_with_retry_after_date(client: httpx.Client, control: SandboxControl) -> None:
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(minutes=1), usegmt=True)
    control.add_rule(PHONE, "503", retry_after=when)
    response = place(client, "libby")
    assert (response.status_code, response.headers["retry-after"]) == (503, when)


def test_times_limits_a_rule_to_the_first_requests(
    client: httpx.Client, control: SandboxControl
) -> None:
    control.add_rule(PHONE, "503", times=2)
    statuses = [place(client, "sandbox").status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    assert client.get("/_sandbox/rules").json() == []


def test_exact_number_rules_win_over_the_wildcard(
    client: httpx.Client, control: SandboxControl
) -> None:
    control.add_rule("*", "500")
    control.add_rule(PHONE, "429", times=1)
    assert place(client, "trillet").status_code == 429
    assert place(client, "trillet").status_code == 500
    assert place(client, "trillet", "+15055550124").status_code == 500
    assert control.clear_rules() == 1
    assert place(client, "trillet").status_code == 200


def test_rules_leave_other_requests_alone(client: httpx.Client, control: SandboxControl) -> None:
    """Rules fault call-placing requests only: not token requests, not status polls."""
    control.add_rule("*", "500")
    legacy_token(client)
    assert client.get("/sandbox/call/SBX-unknown").status_code == 404


def test_hang_leaves_the_client_waiting(client: httpx.Client, control: SandboxControl) -> None:
    control.add_rule(PHONE, "hang", times=1)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        place(client, "allomia", timeout=0.3)
    assert time.monotonic() - started < 2
    assert place(client, "allomia").status_code == 200
    assert [r["fault"] for r in control.requests(phone=PHONE)] == ["hang", None]


def test_drop_closes_the_connection_after_reading_the_request(
    client: httpx.Client, control: SandboxControl
) -> None:
    control.add_rule(PHONE, "drop", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        place(client, "polyai")
    record = control.requests(phone=PHONE)[0]
    assert (record["fault"], record["status"], record["json"]) == ("drop", None, polyai_body())
    assert place(client, "polyai").status_code == 200


@pytest.mark.parametrize(
    "rule",
    [
        {"action": "500"},
        {"phone": PHONE, "action": "418"},
        {"phone": PHONE, "action": "500", "times": 0},
        {"phone": PHONE, "action": "429", "retry_after": "soon"},
        {"phone": PHONE, "action": "500", "colour": "red"},
    ],
)
def test_bad_rules_are_refused(client: httpx.Client, rule: dict[str, Any]) -> None:
    response = client.post("/_sandbox/rules", json=rule)
    assert response.status_code == 400
    assert response.json()["error"]


# -- records ----------------------------------------------------------------------------------


def test_requests_are_recorded_exactly(client: httpx.Client, control: SandboxControl) -> None:
    place(client, "libby")
    control.add_rule("+15055550124", "500")
    place(client, "sandbox", "+15055550124")
    first, second = control.requests()
    assert first["route"] == "libby"
    assert (first["method"], first["path"]) == ("POST", "/api/v1/outbound/call")
    assert first["headers"]["x-api-key"] == "key-1"
    assert first["json"] == libby_body()
    assert (first["phone"], first["status"], first["fault"]) == (PHONE, 200, None)
    assert datetime.fromisoformat(first["received_at"]).tzinfo is not None
    assert second["seq"] > first["seq"]
    assert (second["route"], second["status"], second["fault"]) == ("sandbox", 500, "500")


def test_records_filter_by_phone_and_route(client: httpx.Client, control: SandboxControl) -> None:
    place(client, "libby-legacy")
    place(client, "trillet", "+15055550124")
    token, call = control.requests(route="libby-legacy")
    assert token["form"]["grant_type"] == "client_credentials"
    assert token["phone"] is None
    assert call["path"] == "/outbound"
    assert [r["route"] for r in control.requests(phone="+15055550124")] == ["trillet"]
    assert client.delete("/_sandbox/requests").json() == {"deleted": 3}
    assert control.requests() == []


def test_unknown_paths_are_recorded_too(client: httpx.Client, control: SandboxControl) -> None:
    client.post("/v9/call", content=b"hello")
    (record,) = control.requests()
    assert (record["route"], record["status"], record["body"]) == (None, 404, "hello")


def test_records_are_bounded(client: httpx.Client, control: SandboxControl) -> None:
    control.configure(max_records=3)
    for _ in range(5):
        place(client, "sandbox")
    seqs = [record["seq"] for record in control.requests()]
    assert len(seqs) == 3 and seqs == sorted(seqs)


# -- config and control -----------------------------------------------------------------------


def test_config_changes_and_resets(client: httpx.Client, control: SandboxControl) -> None:
    assert control.configure(latency_ms=5)["latency_ms"] == 5
    assert client.get("/_sandbox/config").json()["latency_ms"] == 5
    control.clear()
    assert client.get("/_sandbox/config").json()["latency_ms"] == 0


@pytest.mark.parametrize("change", [{"latency_ms": -1}, {"colour": "red"}, {"webhooks": "maybe"}])
def test_bad_config_is_refused(client: httpx.Client, change: dict[str, Any]) -> None:
    response = client.post("/_sandbox/config", json=change)
    assert response.status_code == 400
    assert response.json()["error"]


def test_server_options_are_config_keys() -> None:
    assert SandboxServer(latency_ms=7, token_ttl=5).config.token_ttl == 5
    with pytest.raises(ValueError, match="colour"):
        SandboxServer(colour="red")


def test_health(client: httpx.Client) -> None:
    assert client.get("/_sandbox/health").json() == {"ok": True}


# -- concurrency and lifecycle ----------------------------------------------------------------


async def _post(port: int, path: str, body: bytes) -> int:
    """One request on its own connection, spoken with h11 directly: httpx's connection pool
    scans every connection for every queued request, which at hundreds of concurrent requests
    costs seconds of client CPU and would measure the client rather than the server."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn = h11.Connection(h11.CLIENT)
    headers = [("host", "sandbox"), ("content-type", "application/json")]
    headers.append(("content-length", str(len(body))))
    request = h11.Request(method="POST", target=path, headers=headers)
    writer.write(
        b"".join(conn.send(e) or b"" for e in (request, h11.Data(data=body), h11.EndOfMessage()))
    )
    status = 0
    while not status:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
    writer.close()
    await writer.wait_closed()
    return status


def test_holds_hundreds_of_slow_requests_at_once(
    server: SandboxServer, control: SandboxControl
) -> None:
    # Answered within 10 s at 1 s each, 200 requests were held more than 20 at a time (a
    # server holding at most 20 needs ten rounds). At 1 s rather than 0.2 s a second, the
    # same proof leaves a loaded machine 9 s for everything but the latency, not 1.8 s.
    control.configure(latency_ms=1000)
    body = json.dumps(native_body()).encode()

    async def burst() -> list[int]:
        return await asyncio.gather(
            *(_post(server.port, "/sandbox/call", body) for _ in range(200))
        )

    started = time.monotonic()
    statuses = asyncio.run(burst())
    elapsed = time.monotonic() - started
    assert statuses == [200] * 200
    assert elapsed < 10, f"200 requests at 1 s latency took {elapsed:.2f}s"


def test_stop_ends_hanging_connections() -> None:
    with SandboxServer() as server, SandboxControl(server.url) as control:
        control.add_rule(PHONE, "hang")
        errors: list[Exception] = []

        def hang() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                try:
                    place(client, "sandbox")
                except httpx.HTTPError as exc:
                    errors.append(exc)

        thread = threading.Thread(target=hang)
        thread.start()
        while not control.requests():
            time.sleep(0.01)
        started = time.monotonic()
        server.stop()
        thread.join(5)
        assert time.monotonic() - started < 5
        assert len(errors) == 1


def test_port_in_use_fails_start(server: SandboxServer) -> None:
    with pytest.raises(OSError):
        SandboxServer(port=server.port).start()


@pytest.mark.slow
def test_runs_as_a_separate_process() -> None:
    with sandbox_process(latency_ms=10) as control, httpx.Client(base_url=control.url) as client:
        control.add_rule(PHONE, "503", times=1)
        assert place(client, "sandbox").status_code == 503
        assert place(client, "sandbox").status_code == 200
        assert [r["status"] for r in control.requests(phone=PHONE)] == [503, 200]
