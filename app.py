"""Studio's composition root: settings -> store -> services -> FastAPI routes -> Gradio UI.

`python app.py` serves it on HOST:PORT (default http://127.0.0.1:7860). The page is served at
once; torch and the default model load in the background.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType

import uvicorn
from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from auth.accounts import Accounts
from auth.dependency import make_auth_dependency
from auth.rate_limit import RateLimiter
from auth.routes import auth_router
from billing.creem import CreemClient
from billing.ledger import Ledger
from billing.moderation import Moderation
from billing.paid_runs import PaidRuns
from billing.payments import Payments
from billing.routes import WATCH_BALANCE, billing_router
from billing.sweeper import Periodic, Sweeper, usage_retention
from config import Settings
from monitoring import logs
from monitoring.health import Readiness
from monitoring.metrics import Metrics
from monitoring.routes import monitoring_router
from pipelines import registry, zerogpu
from pipelines.batcher import DeviceQueue
from pipelines.models import ModelManager
from pipelines.registry import OPERATIONS
from pipelines.service import EditService
from pipelines.sessions import SessionStore
from policy.acceptance import PolicyAcceptance
from policy.analytics import head_html as analytics_head
from policy.consents import Consents
from policy.cookies import analytics_check
from policy.data_rights import DataRights
from policy.documents import Documents
from policy.rights_routes import rights_router
from policy.routes import consent_router
from policy.transport import TransportSecurity
from services import Studio
from store.crypto import FieldCipher
from store.db import create_engine, migrate
from store.usage import UsageLog
from ui.developers import developers_router
from ui.page_language import PageLanguage
from ui.uploads import prepare_temp_dir
from web.api_limits import ApiKeyRunLimit
from web.headers import PageSecurity
from web.limits import BodyLimit, body_limits
from web.origins import CrossSiteGuard
from web.proxies import ProxyHeaders
from web.upload_quota import AddressQuota

log = logging.getLogger("studio")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    upload_root = prepare_temp_dir(settings.gradio_temp_dir, settings.temp_dir_min_free_mb)
    # Gradio reads these when it is imported and when components are built: set them first.
    os.environ["GRADIO_TEMP_DIR"] = str(upload_root)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    tempfile.tempdir = str(upload_root)  # multipart spill files stay on the same RAM disk
    import gradio as gr

    from ui.i18n import i18n
    from ui.studio import CSS, build_studio
    from ui.studio import HEAD as STUDIO_HEAD
    from ui.upload_folder import UploadFolder
    from ui.upload_route import add_upload_route, close_file_routes

    registry.check_settings(settings)  # names of operations and models: a typo fails here, not at the first run
    preload = registry.preload_operation(settings)
    engine = create_engine(settings.sqlalchemy_url)
    migrate(engine, FieldCipher.from_settings(settings))  # existing rows are encrypted with the app's keys
    models = ModelManager(settings)
    queue = DeviceQueue(settings.max_batch_size)
    on_zero_gpu = zerogpu.attach(models, settings.zero_gpu_duration_s)  # None off ZeroGPU: the work runs here
    service = EditService(settings, models, queue, UsageLog(engine), device_work=on_zero_gpu)
    accounts = Accounts(engine, settings)
    identify = make_auth_dependency(accounts)
    creem = CreemClient(settings) if settings.payments_configured else None
    ledger = Ledger(engine, signup_credits=settings.signup_credits, hold_minutes=settings.hold_minutes,
                    sold_here=creem is not None)
    documents, consents = Documents(settings), Consents(engine)
    acceptance = PolicyAcceptance(consents, documents)
    paid_runs = PaidRuns(service, ledger, Moderation(settings, creem), gate=acceptance.require)
    payments = Payments(engine, settings, ledger, creem)
    rights = DataRights(engine, accounts.users, accounts.magic_links, consents, payments, settings.brand_name)
    sessions = SessionStore(
        max_history=settings.max_history, idle_s=settings.session_idle_s, anonymous_idle_s=settings.anonymous_idle_s,
        memory_bytes=settings.picture_memory_mb * 2**20, anonymous_per_address=settings.anonymous_tabs_per_address,
    )
    metrics = Metrics(operations=OPERATIONS)  # this app's own registry: apps in one process count apart
    metrics.watch_queue(queue.depth)
    service.observers += [
        lambda run: metrics.run_finished(run.operation, run.status, run.duration_ms / 1000), logs.log_run,
    ]
    paid_runs.on_charged = metrics.credits_charged
    payments.webhooks.on_webhook = metrics.webhook_event
    studio = Studio(
        settings, engine, service, paid_runs, ledger, payments, accounts, sessions, upload_root,
        documents, consents, acceptance, rights,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if preload is not None:
            service.preload(preload.id)
        sweeper = Sweeper(ledger)  # holds of runs that died with an earlier process, now and every minute
        sweeper.start()
        retention = usage_retention(service.usage, settings.usage_retention_days)  # now and every hour
        retention.start()
        old_links = Periodic("expired-links", accounts.magic_links.purge_expired, 3600.0)
        old_links.start()
        old_signups = Periodic("signup-addresses", lambda: ledger.forget_signup_addresses(settings.signup_memory_days),
                               86400.0)
        old_signups.start()
        unclaimed = Periodic("unclaimed-uploads", uploads.sweep, uploads.sweep_every_s)  # every few seconds
        unclaimed.start()
        yield
        unclaimed.stop()
        service.cancel_all()  # a run still going when the server stops gives its hold back now
        service.wait_until_idle(SHUTDOWN_GRACE_S)
        old_signups.stop()
        old_links.stop()
        retention.stop()
        sweeper.stop()
        shutil.rmtree(upload_root, ignore_errors=True)

    app = FastAPI(title="Studio", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.studio = studio
    app.state.metrics = metrics
    app.add_middleware(PageLanguage)  # Gradio's page starts in the visitor's language (not settable from `head`)
    # authlib keeps the OAuth state in a signed cookie of its own, only under /auth
    app.add_middleware(
        SessionMiddleware, secret_key=settings.secret_key.get_secret_value(), session_cookie="studio_oauth",
        path="/auth", max_age=600, same_site=settings.cookie_samesite, https_only=settings.cookie_secure,
        partitioned=settings.cookie_samesite == "none",
    )
    app.include_router(auth_router(accounts))
    app.include_router(billing_router(accounts, ledger, payments))
    app.include_router(rights_router(accounts, rights, acceptance))
    app.include_router(developers_router(settings))  # GET /developers: the API, with snippets that work
    app.include_router(consent_router(accounts, consents))  # the cookie choice: GET and POST /consent/cookies

    @app.get("/healthz")
    def healthz() -> dict:
        """Liveness, the model profile, and which operations have their model loaded.

        Still 200 when a model failed to load: the process is alive and the other operations work;
        "degraded" and that operation's `available: false` say which one is out.
        """
        operations = service.status()
        return {
            "status": "ok" if all(op["available"] for op in operations.values()) else "degraded",
            "model_profile": settings.model_profile,
            "operations": operations,
        }

    readiness = Readiness(engine, service, settings.preload_operation, settings.readiness_timeout_s)
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    app.include_router(monitoring_router(readiness, metrics, token))  # /readyz and /metrics

    demo = build_studio(studio)
    # The RAM upload folder: its cap, and uploads no handler read deleted after UPLOAD_UNCLAIMED_S
    uploads = UploadFolder(upload_root, cap=settings.upload_folder_bytes, unclaimed_s=settings.upload_unclaimed_s,
                           forget=lambda paths: demo.upload_file_set.difference_update(paths))
    anonymous = AddressQuota(files=settings.anonymous_upload_files, size=settings.anonymous_upload_bytes,
                             window_s=settings.anonymous_upload_window_s)
    add_upload_route(app, demo, uploads, anonymous, settings.max_upload_bytes, identify)
    close_file_routes(app)  # Gradio's process_recording would write what anyone posts
    # The edge, innermost first. Every refusal it makes passes TransportSecurity; ProxyHeaders runs before all.
    app.add_middleware(  # runs started per API key and minute, counted in the database
        ApiKeyRunLimit, limiter=RateLimiter(engine), per_minute=settings.api_key_runs_per_minute,
    )
    app.add_middleware(BodyLimit, limits=body_limits(settings))  # bodies counted as they stream in, refused past it
    app.add_middleware(  # writes only from our own pages (and ALLOWED_ORIGINS); CORS only for ALLOWED_ORIGINS
        CrossSiteGuard, public_url=settings.public_url, allowed_origins=settings.allowed_origins,
        brand=settings.brand_name,
    )
    # The page's <head> as one string, shown from the first paint: the cookie banner and the analytics loader
    # (empty without GA_MEASUREMENT_ID). Other head parts join here; the language cannot (see ui/page_language.py).
    head = analytics_head(settings) + STUDIO_HEAD  # the banner and analytics; keys, leaving, sign-in elsewhere
    app.add_middleware(  # Content-Security-Policy (a nonce per request; Google's hosts after consent), framing
        PageSecurity, settings=settings, inline_scripts=(head, WATCH_BALANCE),
        analytics_accepted=analytics_check(settings, consents, accounts),
    )
    app.add_middleware(TransportSecurity, https=settings.is_https)  # every response, the edge's refusals included
    # Added last, so outermost: everything inside sees the caller's address and scheme as our proxies gave them.
    app.add_middleware(ProxyHeaders, trusted=settings.trusted_proxies, hops=settings.trusted_proxy_hops)
    # Every FastAPI route goes above this line: Gradio mounted at "/" shadows later ones.
    demo.queue(max_size=settings.queue_max_size)
    app = gr.mount_gradio_app(
        app, demo, path="/",
        css=CSS, footer_links=["settings"], run_history=False, mcp_server=False,  # the API page is /developers
        max_file_size=settings.max_upload_bytes, show_error=True, auth_dependency=identify,
        head=head, i18n=i18n(),
    )
    # Gradio checks that file paths in a request point into its upload folder only once
    # `has_launched` is set, which launch() does and mount_gradio_app() does not. Without this a
    # caller could name any file on the server and Gradio would copy it into its cache.
    demo.has_launched = True
    return app


def configure_logging(settings: Settings | None = None) -> None:
    """LOG_FORMAT=text (development) or json (production: one object per line, no personal data)."""
    logs.configure(settings.log_format if settings else "text")


SHUTDOWN_GRACE_S = 5  # open event streams get this long after SIGTERM; runs are cancelled at once


class StudioServer(uvicorn.Server):
    """uvicorn, and on SIGTERM (or Ctrl-C) every run in progress is cancelled at once: the holds are
    released and the process ends within seconds, instead of waiting for long runs and open streams."""

    def __init__(self, config: uvicorn.Config, studio: Studio) -> None:
        super().__init__(config)
        self.studio = studio

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        cancelled = self.studio.service.cancel_all()
        log.info("shutting down: %d run(s) cancelled", cancelled)
        super().handle_exit(sig, frame)


def main() -> None:
    settings = Settings()
    configure_logging(settings)
    app = create_app(settings)
    log.info("Studio on http://%s:%d (models: %s)", settings.host, settings.port, settings.model_profile)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, access_log=settings.access_log,
        log_config=None,  # uvicorn's records go through the root handler, in LOG_FORMAT
        proxy_headers=False,  # web/proxies.py reads X-Forwarded-For/-Proto (TRUSTED_PROXIES, TRUSTED_PROXY_HOPS)
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    StudioServer(config, app.state.studio).run()


if __name__ == "__main__":
    main()
