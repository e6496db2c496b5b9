// The change feed's watermark: the start of the oldest transaction still open on this server (this one
// included, so there is always a row). A transaction writes its changes with the clock read after it began,
// so every change not yet committed sorts at or after this instant, and a page that stops before it
// (app/services/changes.py) never passes over a change that commits later. Runs on the writer.
SHOW TRANSACTIONS YIELD startTime
RETURN min(datetime(startTime)) AS oldest
