"""The Gradio front end: the Studio page and the API endpoints. Only this package (and app.py) imports gradio."""
