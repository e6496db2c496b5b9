// Empty the bench's disposable database between the defaults run and the naive run.
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS
