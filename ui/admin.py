"""The Admin tab: usage and credits over the last days, for the addresses in ADMIN_EMAILS.

Everything comes from first-party rows (usage events, ledger entries); nothing is sent anywhere.
The tab is hidden from everyone else, but a hidden tab's endpoints can still be called over
HTTP, so every handler checks again who is asking before it reads anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr
import pandas as pd

from auth.tokens import normalize_email
from billing.stats import credit_totals, credits_per_day
from kernel.errors import UserError
from store.usage import Window
from ui.account import AccountHandlers
from ui.i18n import language, t, text, text_count

if TYPE_CHECKING:
    from services import Studio

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30

STRINGS = {
    "en": {
        "admin.tab": "Admin",
        "admin.period": "Period",
        "admin.period.7": "7 days",
        "admin.period.30": "30 days",
        "admin.period.90": "90 days",
        "admin.refresh": "Refresh",
        "admin.refused": "Only administrators can see usage statistics.",
        "admin.bad_period": "Choose a period of 7, 30 or 90 days.",
        "admin.summary.one": "**{count} run** in the last {days} days",
        "admin.summary.other": "**{count} runs** in the last {days} days",
        "admin.outcomes": "{ok} succeeded, {failed} failed, {cancelled} cancelled, {rejected} refused before running.",
        "admin.rate": "Failure rate: **{rate}** (failed runs among those that were not refused).",
        "admin.no_rate": "none yet",
        "admin.money": "Credits sold: **{sold}** · credits spent on runs: **{spent}**.",
        "admin.runs_title": "Runs per day",
        "admin.durations_title": "Duration of successful runs (median and 95th percentile)",
        "admin.failures_title": "Failure rate per day",
        "admin.credits_title": "Credits per day: sold above the line, spent below",
        "admin.day": "Day",
        "admin.runs": "Runs",
        "admin.operation": "Operation",
        "admin.seconds": "Seconds",
        "admin.statistic": "Statistic",
        "admin.failure_rate": "Failure rate",
        "admin.credits": "Credits",
        "admin.sold": "sold",
        "admin.spent": "spent",
    },
    "sv": {
        "admin.tab": "Admin",
        "admin.period": "Period",
        "admin.period.7": "7 dagar",
        "admin.period.30": "30 dagar",
        "admin.period.90": "90 dagar",
        "admin.refresh": "Uppdatera",
        "admin.refused": "Endast administratörer kan se användningsstatistik.",
        "admin.bad_period": "Välj en period på 7, 30 eller 90 dagar.",
        "admin.summary.one": "**{count} körning** de senaste {days} dagarna",
        "admin.summary.other": "**{count} körningar** de senaste {days} dagarna",
        "admin.outcomes": "{ok} lyckades, {failed} misslyckades, {cancelled} avbröts, {rejected} nekades innan de "
                          "kördes.",
        "admin.rate": "Andel misslyckade: **{rate}** (misslyckade körningar bland dem som inte nekades).",
        "admin.no_rate": "ingen ännu",
        "admin.money": "Sålda krediter: **{sold}** · krediter använda till körningar: **{spent}**.",
        "admin.runs_title": "Körningar per dag",
        "admin.durations_title": "Tidsåtgång för lyckade körningar (median och 95:e percentilen)",
        "admin.failures_title": "Andel misslyckade per dag",
        "admin.credits_title": "Krediter per dag: sålda ovanför linjen, använda under",
        "admin.day": "Dag",
        "admin.runs": "Körningar",
        "admin.operation": "Åtgärd",
        "admin.seconds": "Sekunder",
        "admin.statistic": "Mått",
        "admin.failure_rate": "Andel misslyckade",
        "admin.credits": "Krediter",
        "admin.sold": "sålda",
        "admin.spent": "använda",
    },
}


class AdminHandlers:
    def __init__(self, studio: Studio, account: AccountHandlers) -> None:
        self.settings = studio.settings
        self.ledger = studio.ledger
        self.usage = studio.service.usage
        self.account = account

    def is_admin(self, request: gr.Request) -> bool:
        """Read ADMIN_EMAILS on every call, both sides normalised, so "Ops@Example.com " matches."""
        user = self.account.user(request)
        return user is not None and _normalised(user.email) in self.admins()

    def admins(self) -> set[str]:
        return {email for email in map(_normalised, self.settings.admin_emails) if email}

    def require_admin(self, request: gr.Request) -> None:
        if not self.is_admin(request):
            raise gr.Error(text("admin.refused", language(request)), print_exception=False)

    def tab_visibility(self, request: gr.Request) -> dict:
        return gr.update(visible=self.is_admin(request))

    def statistics(self, days: int, request: gr.Request) -> tuple:
        """Summary and the four plots for the last `days` days; refused to anyone not an admin.

        Axis titles and legend labels are set here, in the visitor's language: Gradio translates a
        plot's title but not its axis titles, nor the values in its data.
        """
        self.require_admin(request)
        lang = language(request)
        if days not in PERIODS:
            raise gr.Error(text("admin.bad_period", lang), print_exception=False)
        window = Window.last_days(days)
        usage = self.usage.stats(window)
        credits = credits_per_day(self.ledger, window)
        totals = usage.totals()
        rate = totals.failure_rate
        summary = "  \n".join([
            text_count("admin.summary", totals.runs, lang, days=days) + ": " + text(
                "admin.outcomes", lang, ok=totals.ok, failed=totals.failed, cancelled=totals.cancelled,
                rejected=totals.rejected),
            text("admin.rate", lang, rate=f"{rate:.1%}" if rate is not None else text("admin.no_rate", lang)),
            text("admin.money", lang, **credit_totals(credits)),
        ])
        words = {key: text(f"admin.{key}", lang) for key in ("day", "runs", "operation", "seconds", "statistic",
                                                             "failure_rate", "credits")}
        return (
            summary,
            gr.update(value=usage.runs_per_day(), x_title=words["day"], y_title=words["runs"],
                      color_title=words["operation"]),
            gr.update(value=duration_bars(usage.durations()), x_title=words["operation"], y_title=words["seconds"],
                      color_title=words["statistic"]),
            gr.update(value=usage.failure_rate_per_day(), x_title=words["day"], y_title=words["failure_rate"]),
            gr.update(value=credit_bars(credits, lang), x_title=words["day"], y_title=words["credits"],
                      color_title=words["credits"]),
        )


def _normalised(email: str | None) -> str | None:
    try:
        return normalize_email(email)
    except UserError:
        return None


def duration_bars(durations: pd.DataFrame) -> pd.DataFrame:
    """One bar per operation and statistic: Gradio's bar plot stacks bars that share an x value,
    and a p95 stacked on a median would read as their sum."""
    bar = durations["operation"] + " " + durations["statistic"]
    return durations.assign(bar=bar.astype("str"))


def credit_bars(per_day: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Spent credits below zero, so the day's two bars stack apart instead of on top of each other."""
    spent = per_day["kind"] == "spent"
    names = {"sold": text("admin.sold", lang), "spent": text("admin.spent", lang)}
    return per_day.assign(
        credits=per_day["credits"].where(~spent, -per_day["credits"]), kind=per_day["kind"].map(names).astype("str"),
    )


def build_admin_tab(demo: gr.Blocks, handlers: AdminHandlers) -> gr.Tab:
    """Call inside gr.Blocks, after the Account tab. Hidden until the page's load finds an admin."""
    with gr.Tab(t("admin.tab"), visible=False, elem_id="admin-tab") as tab:
        with gr.Row(equal_height=True):
            period = gr.Radio(
                [(t(f"admin.period.{days}"), days) for days in PERIODS], value=DEFAULT_PERIOD,
                label=t("admin.period"), elem_id="admin-period",
            )
            refresh = gr.Button(t("admin.refresh"), size="sm", scale=0, min_width=140, elem_id="admin-refresh")
        summary = gr.Markdown(elem_id="admin-summary")
        with gr.Row():
            runs = gr.LinePlot(
                x="day", y="runs", color="operation", title=t("admin.runs_title"), y_lim=[0, None], height=300,
                elem_id="admin-runs-plot",
            )
            durations = gr.BarPlot(
                x="bar", y="seconds", color="statistic", title=t("admin.durations_title"), x_label_angle=-30,
                y_lim=[0, None], tooltip=["operation"], height=300, elem_id="admin-durations-plot",
            )
        with gr.Row():
            failures = gr.LinePlot(
                x="day", y="failure_rate", title=t("admin.failures_title"), y_lim=[0, 1], y_axis_format=".0%",
                height=300, elem_id="admin-failures-plot",
            )
            credits = gr.BarPlot(
                x="day", y="credits", color="kind", x_bin="1d", title=t("admin.credits_title"), y_axis_format="~g",
                height=300, elem_id="admin-credits-plot",
            )
    gr.on(
        [tab.select, refresh.click, period.change], handlers.statistics, period,
        [summary, runs, durations, failures, credits], api_name="admin_statistics", api_visibility="private",
    )
    demo.load(handlers.tab_visibility, None, tab, api_name="admin_tab", api_visibility="private")
    return tab
