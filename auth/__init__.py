"""Accounts: Google (OIDC), GitHub (OAuth2) and emailed magic links; server-side sessions; API keys.

Nothing here imports gradio. auth/dependency.py gives Gradio the signed-in user; the UI asks
auth.accounts.Accounts for everything else.
"""
