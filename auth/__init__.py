"""Accounts: Google (OIDC), GitHub (OAuth2) and emailed magic links; server-side sessions; API keys.

Nothing here imports gradio. Accounts.caller_id answers "who is calling" from a request's headers and
cookies, for every route (auth/dependency.py) and every UI handler; the UI asks auth.accounts.Accounts
for everything else.
"""
