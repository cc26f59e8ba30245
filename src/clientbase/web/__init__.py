"""The server-rendered dashboard: Jinja2 templates, htmx, vendored Vega charts, three languages."""
