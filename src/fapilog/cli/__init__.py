"""The ``fapilog`` command line."""
