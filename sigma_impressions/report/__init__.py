"""The report over the marts: sections and their renderers (the HTML page: html.py)."""
