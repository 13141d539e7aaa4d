# A resident dbt: runs one dbt command per request line through dbt's own programmatic entry
# point (dbtRunner), so a scenario's probes pay for starting Python and importing dbt once, not
# once per command. Requests on stdin, one JSON object a line: {"args": [...], "env": {...}}.
# Replies on the original stdout, one JSON object a line: {"exit": 0|1|2, "error": "..."};
# dbt's own console output goes to stderr's sink, never into the replies.
import json
import os
import sys

replies = os.fdopen(os.dup(1), "w", buffering=1)
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
sys.stdout = open(os.devnull, "w")

from dbt.cli.main import dbtRunner  # noqa: E402  (after stdout is redirected)

replies.write(json.dumps({"ready": True}) + "\n")
for line in sys.stdin:
    if not line.strip():
        continue
    error = None
    try:
        request = json.loads(line)
        os.environ.update(request.get("env", {}))
        result = dbtRunner().invoke(request["args"])
        # As the dbt command line exits: 0 success, 1 a node failed, 2 dbt itself failed.
        code = 0 if result.success else (1 if result.exception is None else 2)
        if result.exception is not None:
            error = str(result.exception)
    except Exception as e:  # a request dbt could not even start
        code, error = 2, f"{type(e).__name__}: {e}"
    replies.write(json.dumps({"exit": code, "error": error}) + "\n")
