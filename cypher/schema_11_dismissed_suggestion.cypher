// A dismissed merge suggestion is one node per pair of profile ids.
CREATE CONSTRAINT dismissed_suggestion_pair IF NOT EXISTS FOR (n:DismissedSuggestion) REQUIRE n.pair IS UNIQUE
