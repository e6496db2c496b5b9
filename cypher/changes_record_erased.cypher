// Erasure: the profile-erased entry of the change feed, in the transaction that erased the component: the
// ids it answered to, nothing else. `at` is the server's clock read now, under the profile's lock.
WITH datetime.realtime() AS at
CREATE (c:Change {
  seq: right('0000000000000000' + toString(at.epochSeconds * 1000000 + at.microsecond), 16) + '7-' + randomUUID(),
  type: 'profile-erased', at: at, profile_id: $profile_id, erased_ids: $erased_ids
})
RETURN c.seq AS seq
