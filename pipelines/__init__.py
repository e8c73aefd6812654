"""Image editing: the operation registry, model loading, and the device queue.

Nothing here imports gradio, and nothing imports torch at module import time, so the web
page can be served while the models load in the background.
"""
