"""Where content comes from: the Content Delivery API client (:mod:`.cda`), the Sync API walker
(:mod:`.sync`), bounded concurrency for fetches (:mod:`.tasks`), and what a long job reports
while it works (:mod:`.progress`)."""
