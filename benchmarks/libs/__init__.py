"""Registry of library adapters, imported lazily so one missing library does not stop the others."""

from __future__ import annotations

import importlib

from libs.base import Adapter

ADAPTERS: dict[str, str] = {
    "fapilog": "libs.fapilog_adapter:FapilogAdapter",
    "stdlib": "libs.stdlib_adapter:StdlibAdapter",
    "stdlib-queue": "libs.stdlib_adapter:StdlibQueueAdapter",
    "structlog": "libs.structlog_adapter:StructlogAdapter",
    "loguru": "libs.loguru_adapter:LoguruAdapter",
    "picologging": "libs.picologging_adapter:PicologgingAdapter",
    "none": "libs.null_adapter:NullAdapter",
}

IMPORT_STMTS: dict[str, str] = {
    "fapilog": "import fapilog",
    "stdlib": "import logging, json",
    "stdlib-queue": "import logging.handlers, json, queue",
    "structlog": "import structlog, orjson",
    "loguru": "from loguru import logger",
    "picologging": "import picologging",
}


# The libraries whose logging call hands events to a queue drained by a worker: the burst workload's set.
QUEUED = ("fapilog", "stdlib-queue", "loguru")


def load(name: str) -> Adapter:
    """Instantiate the adapter for ``name`` (ImportError when the library is not installed)."""
    module_name, _, cls_name = ADAPTERS[name].partition(":")
    cls: type[Adapter] = getattr(importlib.import_module(module_name), cls_name)
    return cls()
