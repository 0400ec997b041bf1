"""The kit's record helpers (private): the record type, the serializer, levels, the bound context, the
blocking-I/O helper, exception fields.

Plugin authors import their public names from :mod:`fapilog.plugins`; the engine and the facade import them
from here, which keeps ``import fapilog`` from loading the whole kit (protocols, metadata, asyncio).
"""
