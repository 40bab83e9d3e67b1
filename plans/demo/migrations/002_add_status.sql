-- Expand step: a new column with a default, so the old release (which never writes it) keeps working.
alter table "orders" add column "status" text not null default 'paid';
