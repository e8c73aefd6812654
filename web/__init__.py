"""The HTTP edge: what every request passes before any route (proxies, origins, body sizes, headers); no gradio here."""
