"""Real CalDAV servers (Radicale, Xandikos) started as subprocesses for contract tests."""
