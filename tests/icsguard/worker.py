"""Run by the system python3 (the one with python3-gi): validate-ics.py's own checks on
objects read from stdin, one JSON request a line ({"caldav": bool, "text": str}); one
JSON list of problems a line back ("LEVEL: path: message", as the tool prints them; any
WARN counts, as without --lenient).

usage: /usr/bin/python3 worker.py /path/to/validate-ics.py
"""

import importlib.util
import json
import sys


def main(script):
    spec = importlib.util.spec_from_file_location("validate_ics", script)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    for line in sys.stdin:
        request = json.loads(line)
        found = tool.validate(request["text"], caldav=request["caldav"])
        problems = [f"{level}: {path + ': ' if path else ''}{msg}" for level, path, msg in found]
        sys.stdout.write(json.dumps(problems) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
