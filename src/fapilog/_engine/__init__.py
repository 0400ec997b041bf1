"""The engine: logger handles, context, queue, worker, pipeline, delivery and the process-wide runtime."""
