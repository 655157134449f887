"""HTTP for every source and sink: one client, deadlines, body caps, the retry rule, and
bounded JSON parsing."""
