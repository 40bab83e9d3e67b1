-- The demo's starting point: an orders table with a few rows.
create table "orders" (
  "id" serial primary key,
  "customer" text not null,
  "total_cents" integer not null,
  "created_at" timestamptz not null default now()
);

insert into "orders" ("customer", "total_cents") values
  ('ada', 1250),
  ('grace', 4999),
  ('linus', 300),
  ('margaret', 12000),
  ('ken', 750);
