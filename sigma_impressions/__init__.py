"""The application around the loader: the report and its renderers."""
