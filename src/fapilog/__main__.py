"""``python -m fapilog``: the same command line as the ``fapilog`` console script."""

from fapilog.cli.main import main

raise SystemExit(main())
