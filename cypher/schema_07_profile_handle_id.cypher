// Every profile id ever issued is a ProfileId handle; merged-away ids keep resolving through theirs.
CREATE CONSTRAINT profile_handle_id IF NOT EXISTS FOR (n:ProfileId) REQUIRE n.id IS UNIQUE
