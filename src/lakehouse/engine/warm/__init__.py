"""The warm engine: one resident Spark driver, with Delta loaded and its JIT warmed, that runs
``lakehouse`` commands for every client on this machine (``lakehouse engine start``).

Why a resident driver rather than a Spark Connect server: the engine runs Python in the
driver (delta-rs writes, the event log, streaming ``foreachBatch`` functions, change detection
reading the query plan), which Spark Connect would move into server-side workers or not
offer. Running the command itself in a warm driver keeps exactly the code path of a cold run:
the same semantics, only without the JVM's start-up and warm-up.

- ``state.py``: where a server is, whether it is still the one this checkout would start
  (the fingerprint of the installed packages, the project's code and the Spark settings);
- ``server.py``: the resident process;
- ``client.py``: forwarding a command to it, or saying why it runs cold.
"""
