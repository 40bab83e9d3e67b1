drop table "orders";
