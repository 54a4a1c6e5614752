"""The composition root: settings from the environment, real adapters, built once per container.

`wiring.splitter` and `wiring.pusher` are imported by one Lambda each, so neither loads the other's
adapters at cold start.
"""


def reset() -> None:
    """Forget built services and settings (a local runner or test that switches stacks in one process)."""
    # Imported here so that importing `wiring` alone stays cheap.
    from credits_pipeline.adapters.aws_clients import forget_clients  # noqa: PLC0415
    from credits_pipeline.wiring import pusher, settings, splitter, splitter_settings, watchdog  # noqa: PLC0415

    forget_clients()
    splitter.build_splitter.cache_clear()
    pusher.build_pusher.cache_clear()
    watchdog.build_watchdog.cache_clear()
    splitter_settings.splitter_settings.cache_clear()
    settings.pusher_settings.cache_clear()
    settings.watchdog_settings.cache_clear()
