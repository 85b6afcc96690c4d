"""One exception type for every asset problem, so the CLI can print one line and exit non-zero."""


class AssetError(ValueError):
    """FLAME assets are missing, malformed or unsafe. The message says what and what to do."""
