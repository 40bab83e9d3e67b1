create table `orders` (
  `id` integer not null auto_increment primary key,
  `customer` varchar(100) not null,
  `total_cents` integer not null,
  `created_at` timestamp not null default current_timestamp
) engine=InnoDB;

insert into `orders` (`customer`, `total_cents`) values
  ('ada', 1250), ('grace', 4999), ('linus', 300), ('margaret', 12000), ('ken', 750);
