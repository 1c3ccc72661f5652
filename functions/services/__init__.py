"""Use cases: what Jubilee does with a verified event or a queued fact, over the store ports (ports.py)
that the DynamoDB adapters implement; handlers parse and call these, adapters only translate."""
