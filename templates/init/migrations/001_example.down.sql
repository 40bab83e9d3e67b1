-- Undoes 001_example.sql; run on rollback and by `maint migrate down --to`.
DROP TABLE example_items;
