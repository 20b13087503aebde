"""What an update tells people: the event log, failure reports, and classified values kept out of both."""
