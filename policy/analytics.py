"""The cookie banner and the Google Analytics loader: plain HTML and JS for the page's <head>.

Without GA_MEASUREMENT_ID there is nothing: no banner (essential cookies need no consent) and no
script. With it, the script asks GET /consent/cookies for the verified choice on every page:
  - true: consent mode defaults to denied, is updated to grant analytics storage only, then
    gtag.js is added (the only request to Google, and only now; accepting in the banner reloads the
    page, as only a page served after the choice may load Google's script: web/headers.py);
  - false: nothing loads, and leftover analytics cookies are deleted;
  - null (no cookie, a tampered one, an older notice): the banner, and nothing loads.
Gradio copies <style> and <script> elements of `head` into the page itself (other elements are
dropped), so the banner is built by the script. Nothing here imports gradio.
"""

from __future__ import annotations

import json
import re

from config import Settings
from kernel.language import COOKIE as LANGUAGE_COOKIE
from policy.cookies import ANALYTICS_COOKIE

ENDPOINT = "/consent/cookies"
PRIVACY_TAB_ID = "privacy-tab"  # elem_id of the Privacy policy tab; its button is "privacy-tab-button"
MEASUREMENT_ID = re.compile(r"^G-[A-Z0-9]{1,20}$")

BANNER_STRINGS = {
    "en": {
        "title": "Cookies",
        "body": "{brand} uses essential cookies to keep you signed in and to remember this choice. With your "
                "permission we would also use Google Analytics to count visits and see which features are used; "
                "it sets cookies of its own and sends data about your visit to Google.",
        "policy": "Read the privacy policy",
        "accept": "Accept analytics",
        "essential": "Only essential",
    },
    "sv": {
        "title": "Kakor (cookies)",
        "body": "{brand} använder nödvändiga kakor för att hålla dig inloggad och komma ihåg det här valet. Om du "
                "tillåter det använder vi också Google Analytics för att räkna besök och se vilka funktioner som "
                "används; det sätter egna kakor och skickar uppgifter om ditt besök till Google.",
        "policy": "Läs integritetspolicyn",
        "accept": "Godkänn analys",
        "essential": "Bara nödvändiga",
    },
}
PRIVACY_TAB_LABELS = ["Privacy policy", "Integritetspolicy"]  # found by text when the tab has no elem_id

# Deletes Google Analytics' cookies on this host and every parent domain (gtag.js picks the widest).
CLEAR_ANALYTICS_COOKIES_JS = """() => {
  const host = location.hostname, domains = [''];
  if (host.includes('.') && !/^[0-9.]+$/.test(host) && !host.includes(':')) {
    const labels = host.split('.');
    for (let i = 0; i < labels.length - 1; i++) domains.push(labels.slice(i).join('.'));
  }
  document.cookie.split(';').map(c => c.split('=')[0].trim()).filter(n => /__PATTERN__/.test(n))
    .forEach(n => domains.forEach(d => {
      document.cookie = n + '=; Max-Age=0; path=/' + (d ? '; domain=' + d : '');
    }));
}""".replace("__PATTERN__", ANALYTICS_COOKIE.pattern)

# Makes the choice: POST, delete analytics cookies on withdrawal, reload when asked. True when it worked.
CHOOSE_JS = """async (analytics, reload) => {
  const response = await fetch('__ENDPOINT__', {
    method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({analytics: analytics}),
  }).catch(() => null);
  if (!response || !response.ok) {
    console.warn('The cookie choice was not saved', response && response.status);
    return false;
  }
  if (!analytics) (__CLEAR__)();
  if (reload) location.reload();
  return true;
}""".replace("__ENDPOINT__", ENDPOINT).replace("__CLEAR__", CLEAR_ANALYTICS_COOKIES_JS)

_SCRIPT = """(() => {
  if (window.studioConsent) return;  // Gradio may apply the head more than once
  const config = __CONFIG__;
  const clearAnalyticsCookies = __CLEAR__;
  const choose = __CHOOSE__;
  window.studioConsent = {choose: choose, clearAnalyticsCookies: clearAnalyticsCookies};
  window.dataLayer = window.dataLayer || [];
  function gtag() { window.dataLayer.push(arguments); }
  // Consent mode: everything denied until the visitor agrees. Nothing is loaded yet.
  gtag('consent', 'default', {
    analytics_storage: 'denied', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied',
  });

  function loadAnalytics() {
    gtag('js', new Date());
    gtag('consent', 'update', {analytics_storage: 'granted'});  // analytics only; ads stay denied
    gtag('config', config.id);
    const script = document.createElement('script');
    script.async = true;
    script.src = 'https://www.googletagmanager.com/gtag/js?id=' + encodeURIComponent(config.id);
    document.head.appendChild(script);
  }

  function language() {
    // The switch's cookie when it names a language we have, else the browser's (as kernel/language.py decides)
    const match = document.cookie.match(/(?:^|;\\s*)__LANGUAGE_COOKIE__=([^;]*)/);
    const chosen = match ? decodeURIComponent(match[1]).trim().toLowerCase() : '';
    const tag = config.strings[chosen] ? chosen : (navigator.language || '').toLowerCase();
    return tag.startsWith('sv') ? 'sv' : 'en';
  }

  function openPrivacyPolicy(event) {
    // The tab's own button, or (on a narrow screen) its entry in Gradio's "More tabs" menu, found by its label
    const named = b => config.privacyLabels.includes(b.textContent.trim());
    const tab = document.getElementById(config.privacyTab + '-button')
      || Array.from(document.querySelectorAll('button[role=tab], .overflow-dropdown button')).find(named);
    if (!tab) return;
    event.preventDefault();
    tab.click();
    setTimeout(() => {
      const panel = document.getElementById(config.privacyTab);
      if (panel) panel.scrollIntoView({block: 'start'});
    }, 50);
  }

  function showBanner() {
    if (document.getElementById('studio-cookie-banner')) return;
    const lang = language(), text = config.strings[lang];
    const banner = document.createElement('div');
    banner.id = 'studio-cookie-banner';
    banner.lang = lang;
    banner.tabIndex = -1;
    banner.setAttribute('role', 'dialog');
    banner.setAttribute('aria-label', text.title);
    banner.setAttribute('aria-describedby', 'studio-cookie-text');
    const title = document.createElement('p');
    title.className = 'studio-cookie-title';
    title.textContent = text.title;
    const body = document.createElement('p');
    body.id = 'studio-cookie-text';
    body.textContent = text.body + ' ';
    const link = document.createElement('a');
    link.href = '#' + config.privacyTab;
    link.textContent = text.policy;
    link.addEventListener('click', openPrivacyPolicy);
    body.appendChild(link);
    const buttons = document.createElement('div');
    buttons.className = 'studio-cookie-buttons';
    for (const [id, label, analytics] of [
      ['studio-cookie-essential', text.essential, false], ['studio-cookie-accept', text.accept, true],
    ]) {
      const button = document.createElement('button');
      button.type = 'button';
      button.id = id;
      button.textContent = label;
      button.addEventListener('click', async () => {
        buttons.querySelectorAll('button').forEach(b => { b.disabled = true; });
        // Accepting reloads the page: its Content-Security-Policy names Google's hosts only once the
        // server has the choice (web/headers.py), and this page was sent before it had one.
        if (await choose(analytics, analytics)) {
          banner.remove();
        } else {
          buttons.querySelectorAll('button').forEach(b => { b.disabled = false; });
        }
      });
      buttons.appendChild(button);
    }
    banner.append(title, body, buttons);
    document.body.appendChild(banner);
    banner.focus({preventScroll: true});
  }

  fetch(config.endpoint, {credentials: 'same-origin', cache: 'no-store'})
    .then(response => response.ok ? response.json() : {analytics: null})
    .then(state => {
      if (state.analytics === true) return loadAnalytics();
      clearAnalyticsCookies();
      if (state.analytics !== false) {
        if (document.body) showBanner(); else document.addEventListener('DOMContentLoaded', showBanner);
      }
    })
    .catch(() => {});  // no answer: no analytics on this page
})();"""

_CSS = """
#studio-cookie-banner { position: fixed; z-index: 10000; left: 1rem; right: 1rem; bottom: 1rem; max-width: 38rem;
  margin: 0 auto; box-sizing: border-box; padding: 1rem 1.25rem; border-radius: 12px; font-size: 15px;
  line-height: 1.45; border: 1px solid var(--border-color-primary, #d1d5db);
  background: var(--background-fill-primary, #fff); color: var(--body-text-color, #1f2937);
  box-shadow: 0 8px 30px rgba(0, 0, 0, 0.18); font-family: var(--font, system-ui, sans-serif); }
#studio-cookie-banner p { margin: 0 0 0.75rem; }
#studio-cookie-banner .studio-cookie-title { font-weight: 600; margin-bottom: 0.25rem; }
#studio-cookie-banner a { color: var(--link-text-color, #2563eb); text-decoration: underline; }
#studio-cookie-banner .studio-cookie-buttons { display: flex; gap: 0.5rem; flex-wrap: wrap; justify-content: flex-end; }
#studio-cookie-banner button { font: inherit; padding: 0.5rem 1rem; border-radius: 8px; cursor: pointer;
  color: inherit; border: 1px solid var(--border-color-primary, #9ca3af);
  background: var(--button-secondary-background-fill, #f3f4f6); }
#studio-cookie-banner:focus-visible, #studio-cookie-banner button:focus-visible {
  outline: 2px solid var(--color-accent, #f97316); outline-offset: 2px; }
"""


def head_html(settings: Settings) -> str:
    """The banner and loader for mount_gradio_app(head=...); empty without a measurement id (nothing to ask)."""
    measurement_id = settings.ga_measurement_id
    if not measurement_id:
        return ""
    if not MEASUREMENT_ID.match(measurement_id):
        raise ValueError(f"GA_MEASUREMENT_ID must be a Google Analytics 4 id like G-ABC123XYZ, not {measurement_id!r}")
    config = {
        "id": measurement_id,
        "endpoint": ENDPOINT,
        "privacyTab": PRIVACY_TAB_ID,
        "privacyLabels": PRIVACY_TAB_LABELS,
        "strings": {
            lang: {**strings, "body": strings["body"].format(brand=settings.brand_name)}
            for lang, strings in BANNER_STRINGS.items()
        },
    }
    script = (
        _SCRIPT.replace("__CLEAR__", CLEAR_ANALYTICS_COOKIES_JS)
        .replace("__CHOOSE__", CHOOSE_JS)
        .replace("__LANGUAGE_COOKIE__", LANGUAGE_COOKIE)
        .replace("__CONFIG__", _script_json(config))  # last: the brand name is the visitor-facing text
    )
    return f"<style>{_CSS}</style>\n<script>{script}</script>"


def _script_json(value: object) -> str:
    """JSON that cannot close the <script> element it sits in."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
