// The floor of any profile read: one indexed lookup of the profile node.
MATCH (p:Profile {id: $profile_id}) RETURN p
