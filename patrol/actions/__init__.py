"""Writes of the patrol loop, one module per subject (Zulip's `zerver/actions` shape).

- `reporting`: a new case, exactly once by client_uuid, routed and prioritised;
- `photos`: photos stored by content hash, re-encoded, and which of them an actor may attach;
- `transitions`: one function per action of `patrol.transitions.TRANSITIONS`;
- `escalation`: 督办 of overdue cases (the periodic job).

Each write is keyword-only, runs in one transaction and writes its `IssueEvent`.
"""
