"""The plugins shipped with fapilog, one folder per kind (``sinks``, ``filters``, ``enrichers``, ``redactors``,
``processors``).

They are written only against the public kit, :mod:`fapilog.plugins`, exactly as a third-party plugin is, and
are registered as entry points in ``pyproject.toml`` (the table in ``fapilog._registry``'s built-ins module
mirrors it for source checkouts). Nothing here is imported until a pipeline asks for a plugin by name.
"""
