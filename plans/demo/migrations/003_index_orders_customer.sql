-- Lookups by customer for the new release's order history page.
create index "orders_customer_idx" on "orders" ("customer");
