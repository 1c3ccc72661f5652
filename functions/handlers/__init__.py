"""One thin module per Lambda: parse the event, call the domain through adapters, shape the answer."""
