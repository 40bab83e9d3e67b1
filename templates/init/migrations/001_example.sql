-- An example migration. Migrations run in file-name order, each under a short lock_timeout.
-- Keep them backward-compatible with the running release (add, don't rename or drop).
CREATE TABLE example_items (
  id integer PRIMARY KEY,
  name varchar(200) NOT NULL,
  created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
