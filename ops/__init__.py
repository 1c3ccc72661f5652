"""The operator's `jubilee` command: campaigns, offers, approvals, export, import and verify-log."""
