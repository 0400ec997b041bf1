"""The plugin registry machinery (private): discovery, the version gate, validation, instantiation, lifecycle,
dependencies, the built-in names and the plugin report.

Only the engine reaches in here; plugin authors and applications use the public names in :mod:`fapilog.plugins`
(``PluginRegistry``, ``default_registry``, ``refresh``, ``check_constraint``, ``missing_extra_error``,
``LegacyPluginWarning``) and :func:`fapilog.debug_plugins`.
"""
