"""Provides the query builders (PromQL, LogQL, TraceQL, Pyroscope selectors); no I/O.

Every value that goes into a query passes through its language's one escaping function.
"""
