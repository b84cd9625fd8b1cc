"""The emulator's HTTP application (aiohttp): the three memories.ai hosts as one server.

Their paths do not overlap (/serve/api/v1, /serve/api/v2, /v1/understand), so one
port serves all three: point base_url, security_base_url and asset_base_url at it.
Admin endpoints under /_admin/ change faults and show what arrived.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional

from aiohttp import web

from mavi_sync.emulator import validate as v
from mavi_sync.emulator.callbacks import Callbacks
from mavi_sync.emulator.faults import Bucket, Dice, Faults, Rule, Script
from mavi_sync.emulator.multipart import Dropped, Form, drain, read_form
from mavi_sync.emulator.answers import LOG, RULE, V1_MESSAGES, caption, public, v1, v2, video_json
from mavi_sync.emulator.library import Library
from mavi_sync.emulator.seed import admin_routes, api_routes
from mavi_sync.emulator.settings import Settings  # (re-exported: tests and tools import it from here)
from mavi_sync.emulator.store import Record, Stats, Store

log = logging.getLogger("mavi_sync.emulator")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

class Emulator:
    def __init__(self, data_dir: Path, settings: Settings = Settings(), faults: Faults = Faults()) -> None:
        self.settings = settings
        self.faults = faults
        self.store = Store(data_dir)
        self.library = Library(self.store, data_dir, settings.timing, lambda: self.faults)  # folders, list, search
        self.stats = Stats()
        self.script = Script()
        self.dice = Dice()
        if settings.seed is not None:
            self.dice.rng.seed(settings.seed)
        self.upload_bucket = Bucket()
        self.query_bucket = Bucket()
        self.callbacks = Callbacks(self.stats)

    # -- wiring -------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 20)
        api: list[tuple[str, str, Handler, str, str]] = [
            ("POST", "/serve/api/v1/upload", self.video_upload, "v1", "upload"),
            ("POST", "/serve/api/v1/upload_img", self.image_upload, "v1", "upload"),
            ("GET", "/serve/api/v1/get_metadata", self.video_metadata, "v1", "query"),
            *api_routes(self.library),
            ("POST", "/v1/understand/uploadFile", self.security_async, "security", "upload"),
            ("POST", "/v1/understand/uploadFileSync", self.security_sync, "security", "upload"),
            ("POST", "/serve/api/v2/upload", self.asset_upload, "v2", "upload"),
            ("POST", "/serve/api/v2/upload/signed-url", self.signed_url, "v2", "upload"),
            ("GET", "/serve/api/v2/{asset_id}/metadata", self.asset_metadata, "v2", "query"),
        ]
        for method, path, handler, dialect, kind in api:
            app.router.add_route(method, path, self._gated(handler, dialect, kind))
        app.router.add_post("/_storage/{token}", self._gated(self.storage_upload, "storage", "storage"))
        app.router.add_get("/_admin/faults", self.admin_faults)
        app.router.add_post("/_admin/faults", self.admin_faults)
        app.router.add_post("/_admin/script", self.admin_script)
        app.router.add_get("/_admin/uploads", self.admin_uploads)
        app.router.add_get("/_admin/stats", self.admin_stats)
        app.router.add_post("/_admin/reset", self.admin_reset)
        app.router.add_post("/_admin/callback-sink", self.callback_sink)
        for method, path, handler in admin_routes(self.library):
            app.router.add_route(method, path, handler)
        app.on_startup.append(self.callbacks.start)
        app.on_cleanup.append(self.callbacks.stop)
        return app

    # -- the gate every API request passes ----------------------------------------------
    def _gated(self, handler: Handler, dialect: str, kind: str) -> Handler:
        async def gate(request: web.Request) -> web.StreamResponse:
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            try:
                response = await self._handle(request, handler, dialect, kind)
                entry = request.get(LOG)
                if entry is not None:
                    entry["done"] = time.time()  # the body read and the answer ready: throughput figures
                return response
            except Dropped:
                self.stats.count(self.stats.answers, "dropped")
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=499)  # never reaches the client
            finally:
                self.stats.in_flight -= 1
        return gate

    async def _handle(self, request: web.Request, handler: Handler, dialect: str, kind: str) -> web.StreamResponse:
        self.stats.count(self.stats.requests, request.path)
        entry: dict[str, Any] = {"method": request.method, "path": request.path, "query": dict(request.query),
                                 "content_type": request.content_type,
                                 "has_authorization": "Authorization" in request.headers,
                                 "at": time.time()}  # arrival, for rate measurements
        self.stats.log.append(entry)
        request[LOG] = entry
        rule = self.script.take(request.path)
        request[RULE] = rule
        delay = rule.value if rule and rule.action == "latency" else self.dice.uniform(self.faults.latency_s)
        if delay:
            await asyncio.sleep(delay)
        refusal = self._refusal(request, dialect, kind, rule)
        if refusal is not None:
            await drain(request)
            self.stats.count(self.stats.answers, str(refusal.status) + ":" + refusal.text[:40])
            return refusal
        return await handler(request)

    def _refusal(self, request: web.Request, dialect: str, kind: str, rule: Optional[Rule]) -> Optional[web.Response]:
        """An answer that refuses the request before its body is looked at, or None."""
        f, action = self.faults, rule.action if rule else ""
        if action == "error" or self.dice.roll(f.error_rate):
            return self._server_error()
        if dialect == "storage":
            return None
        expected = self.settings.security_key if dialect == "security" else self.settings.api_key
        given = request.headers.get("Authorization", "")
        if action == "bad_key" or f.bad_key or not hmac.compare_digest(given.encode(), expected.encode()):
            return self._account(dialect, "0401", 401)
        if action == "disabled" or f.disabled:
            return self._account(dialect, "0403", 403)
        if kind == "upload" and (action == "no_credits" or f.no_credits):
            return self._account(dialect, "0402", 402)
        if action == "rate_limit" or self.dice.roll(f.throttle_rate) or not self._within_rate(kind):
            return self._rate_limited(dialect)
        if action == "refuse":  # a request the service will not take, for reasons of its own
            return v2(400, "refused by the service") if dialect == "v2" else v1("0003", "refused by the service")
        return None

    def _within_rate(self, kind: str) -> bool:
        f = self.faults
        if kind == "upload":
            return self.upload_bucket.allow(f.rate_limit_per_minute / 60.0, f.rate_limit_burst)
        return self.query_bucket.allow(f.query_rate_limit_per_second, 2)

    def _retry_after(self) -> dict[str, str]:
        ra = self.faults.retry_after_s
        return {"Retry-After": str(int(ra))} if ra is not None else {}

    def _server_error(self) -> web.Response:
        status = self.dice.rng.choice((500, 502, 503))
        return web.json_response({"code": status, "msg": "Internal Server Error", "data": None},
                                 status=status, headers=self._retry_after() if status == 503 else None)

    def _account(self, dialect: str, code: str, status: int) -> web.Response:
        if dialect == "v2":
            return v2(status, V1_MESSAGES[code])
        return v1(code, V1_MESSAGES[code])

    def _rate_limited(self, dialect: str) -> web.Response:
        if dialect == "v2":
            if self.faults.v2_limit_as_400:
                return v2(400, v.LIMIT_MESSAGE)
            return v2(429, v.LIMIT_MESSAGE, headers=self._retry_after())
        return v1("0429", v.LIMIT_MESSAGE)

    # -- shared by the upload handlers --------------------------------------------------
    async def _form(self, request: web.Request) -> Form:
        rule: Optional[Rule] = request[RULE]
        drop = (rule is not None and rule.action == "drop") or self.dice.roll(self.faults.drop_rate)
        drop_after = max(1, (request.content_length or 2) // 2) if drop else None
        form = await read_form(request, self.store.blobs, keep_bytes=self.settings.keep_bytes, drop_after=drop_after,
                               pace=self.faults.link_bytes_per_s)
        request[LOG].update(fields=form.fields, part_types=form.content_types,
                              files=[vars(r.upload) for r in form.files])
        self.stats.bytes_received += sum(r.upload.size for r in form.files)
        return form

    async def _checked(self, request: web.Request,
                       check: Callable[[Form], Optional[v.Refusal]]) -> tuple[Form, bool, Optional[v.Refusal]]:
        """Read the form and run the endpoint's checks; a refused form's bytes are dropped."""
        hangs = self._hangs(request)
        form = await self._form(request)
        refusal = check(form)
        if refusal:
            form.discard()
        return form, hangs, refusal

    def _hangs(self, request: web.Request) -> bool:
        rule: Optional[Rule] = request[RULE]
        return (rule is not None and rule.action == "hang") or self.dice.roll(self.faults.hang_rate)

    async def _hang(self) -> None:
        self.stats.count(self.stats.answers, "hung")
        await asyncio.sleep(self.faults.hang_s)

    def _outcome(self, request: web.Request) -> tuple[str, str]:
        rule: Optional[Rule] = request[RULE]
        if (rule is not None and rule.action == "fail") or self.dice.roll(self.faults.fail_rate):
            return "FAILED", "emulated processing failure"
        return "SUCCESS", ""

    def _record(self, form: Form, index: int, kind: str, namespace: str, fields: dict[str, Any],
                tags: list[str], request: web.Request, hangs: bool) -> Record:
        received = form.files[index]
        record_id = self.store.new_id(kind)
        outcome, cause = self._outcome(request)
        blob = form.keep(received, self.store.blobs, record_id)
        u = received.upload
        record = Record(record_id, kind, namespace, u.filename, u.content_type, u.size, received.sha256, fields,
                        tags, time.time(), outcome=outcome, cause=cause, blob=blob, uploaded_at=time.time(),
                        answered=not hangs)
        self.store.save(record)
        return record

    # -- v1 video -----------------------------------------------------------------------
    async def video_upload(self, request: web.Request) -> web.StreamResponse:
        form, hangs, refusal = await self._checked(request, lambda f: v.video_refusal(
            f.fields, f.uploads, self.settings.limits) or self.library.upload_refusal(f.fields))
        if refusal:
            return v1(refusal.code, refusal.message)
        fields = {k: val for k, val in form.fields.items()}
        tags = v.tags_of(form.fields) + ["api"]
        record = self._record(form, 0, "video", form.one("unique_id") or "default", fields, tags, request, hangs)
        callback = form.one("callback")
        if callback:
            self.callbacks.add(record.created_at + self.settings.timing.parse_delay_s, callback,
                               {"videoNo": record.id, "status": "PARSE" if record.outcome == "SUCCESS" else "FAILED"})
        if hangs:
            await self._hang()
        return v1("0000", "success", {"videoNo": record.id, "videoName": uuid.uuid4().hex,
                                      "videoStatus": "UNPARSE", "uploadTime": str(int(record.created_at * 1000))})

    async def video_metadata(self, request: web.Request) -> web.StreamResponse:
        video_no = request.query.get("video_no", "")
        if not video_no:
            return v1("0001", "video_no is required")
        record = self.store.get(video_no)
        namespace = request.query.get("unique_id", "default")
        if record is None or record.kind != "video" or record.namespace != namespace:
            return v1("0000", "success", None)
        status = record.status(time.time(), self.settings.timing)
        return v1("0000", "success", None if status is None else video_json(record, status))

    # -- v1 images ----------------------------------------------------------------------
    async def image_upload(self, request: web.Request) -> web.StreamResponse:
        form, hangs, refusal = await self._checked(
            request, lambda f: v.image_refusal(f.fields, f.uploads, self.settings.limits))
        if refusal:
            return v1(refusal.code, refusal.message)
        tags = v.tags_of(form.fields) + ["api"]
        namespace = form.one("unique_id") or "default"
        ids = [self._record(form, i, "image", namespace, dict(form.fields), tags, request, hangs).id
               for i, r in enumerate(form.files) if r.upload.field == "files"]
        if hangs:
            await self._hang()
        return v1("0000", "success", [{"id": int(i)} for i in ids])

    # -- security -----------------------------------------------------------------------
    async def security_async(self, request: web.Request) -> web.StreamResponse:
        return await self._security(request, asynchronous=True)

    async def security_sync(self, request: web.Request) -> web.StreamResponse:
        return await self._security(request, asynchronous=False)

    async def _security(self, request: web.Request, *, asynchronous: bool) -> web.StreamResponse:
        hangs = self._hangs(request)
        form = await self._form(request)
        req, refusal = v.security_request(form.one("req"), form.content_types.get("req", ""), asynchronous,
                                          self.settings.limits)
        refusal = refusal or v.security_file_refusal(form.uploads, self.settings.limits)
        if refusal or req is None:
            form.discard()
            assert refusal is not None
            return v1(refusal.code, refusal.message)
        index = next(i for i, r in enumerate(form.files) if r.upload.field == "files")
        record = self._record(form, index, "security", "default", {"req": req}, [], request, hangs)
        result = caption(record, req)
        if hangs:
            await self._hang()
        ok = self.settings.security_success_code
        if asynchronous:
            self.callbacks.add(time.time() + self.settings.timing.callback_delay_s, req["callback"],  # (api README)
                               {"status": 0, "task_id": record.id, "data": {**result["data"], "token": result["token"]}})
            return web.json_response({"code": ok, "msg": "success", "data": {"task_id": record.id}})
        await asyncio.sleep(self.settings.timing.security_sync_s)
        return web.json_response({"code": ok, "msg": "success", "data": result})

    # -- v2 assets ----------------------------------------------------------------------
    async def asset_upload(self, request: web.Request) -> web.StreamResponse:
        form, hangs, refusal = await self._checked(
            request, lambda f: v.asset_refusal(f.uploads, self.settings.limits.asset_direct_bytes))
        if refusal:
            return v2(int(refusal.code), refusal.message)
        record = self._record(form, 0, "asset", "default", {}, [], request, hangs)
        if hangs:
            await self._hang()
        return v2(200, "success", {"asset_id": record.id})

    async def signed_url(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        request[LOG]["json"] = body
        name = body.get("original_filename") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            return v2(400, v.LIMIT_MESSAGE)
        ttl = self.settings.timing.signed_url_ttl_s
        record = Record(self.store.new_id("asset"), "asset", "default", name, "", 0, "", {}, [], time.time(),
                        via="signed", uploaded_at=None, expires_at=time.time() + ttl, token=secrets.token_urlsafe(24))
        record.outcome, record.cause = self._outcome(request)
        self.store.save(record)
        url = f"{request.scheme}://{request.host}/_storage/{record.token}"
        return v2(200, "success", {"asset_id": record.id, "signed_url": url, "expires_in": int(ttl)})

    async def storage_upload(self, request: web.Request) -> web.StreamResponse:
        """The signed URL's storage host: the URL is the credential; a key must not come along."""
        record = self.store.by_token(request.match_info["token"])
        if "Authorization" in request.headers:
            await drain(request)
            return web.Response(status=400, text="Authorization header not allowed with a signed URL")
        if record is None or record.expires_at is None or time.time() > record.expires_at:
            await drain(request)
            return web.Response(status=403, text="Request has expired")
        form, hangs, refusal = await self._checked(
            request, lambda f: v.asset_refusal(f.uploads, self.settings.limits.asset_signed_bytes))
        if refusal:
            return web.Response(status=400, text=refusal.message)
        received = form.files[0]
        record.blob = form.keep(received, self.store.blobs, record.id)
        record.size, record.sha256 = received.upload.size, received.sha256
        record.content_type, record.uploaded_at, record.answered = received.upload.content_type, time.time(), not hangs
        self.store.save(record)
        if hangs:
            await self._hang()
        return web.Response(status=204)

    async def asset_metadata(self, request: web.Request) -> web.StreamResponse:
        record = self.store.get(request.match_info["asset_id"])
        if record is None or record.kind != "asset":
            return v2(200, "success", None)
        status = record.status(time.time(), self.settings.timing)
        resource = {"upload_status": status, "file_name": record.filename, "size": record.size}
        return v2(200, "success", {"asset_id": record.id, "resource": [resource]})

    # -- admin --------------------------------------------------------------------------
    async def admin_faults(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            try:
                self.faults = self.faults.update(await request.json())
            except (ValueError, AttributeError) as exc:
                return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(self.faults.as_json())

    async def admin_script(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
            self.script.add(body["rules"])
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"expected {{'rules': [{{path, action, count}}]}}: {exc}"}, status=400)
        return web.json_response({"rules": len(self.script.rules)})

    async def admin_uploads(self, request: web.Request) -> web.StreamResponse:
        kind = request.query.get("kind")
        now = time.time()
        items = [dict(public(r), status=r.status(now, self.settings.timing)) for r in self.store.all(kind)]
        return web.json_response({"uploads": items})

    async def admin_stats(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.stats.as_json())

    async def admin_reset(self, request: web.Request) -> web.StreamResponse:
        self.store.reset()
        self.library.reset()
        self.stats = self.callbacks.stats = Stats()
        self.script.clear()
        self.faults = Faults()
        self.upload_bucket, self.query_bucket = Bucket(), Bucket()
        return web.json_response({"reset": True})

    async def callback_sink(self, request: web.Request) -> web.StreamResponse:
        """A callback receiver for tests and the demo: deliveries show in /_admin/stats."""
        return web.json_response({"received": True})
