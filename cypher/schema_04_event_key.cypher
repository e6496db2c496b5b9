// The dedup key: source id and the client's event id. Unique, so a repeat MERGEs onto the stored event.
CREATE CONSTRAINT event_key IF NOT EXISTS FOR (n:Event) REQUIRE n.key IS UNIQUE
