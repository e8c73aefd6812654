"""The small shared kernel every area imports: errors meant for users, the clock, the translation engine.

It imports nothing of Studio's own (the store sits below it) and nothing of gradio.
"""
