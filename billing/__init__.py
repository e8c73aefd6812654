"""Credits and payments: the ledger, prices, paid runs with hold-then-capture, Creem checkout and webhooks.

Nothing here imports gradio.
"""
