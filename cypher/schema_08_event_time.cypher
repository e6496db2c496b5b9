CREATE INDEX event_time IF NOT EXISTS FOR (n:Event) ON (n.time)
