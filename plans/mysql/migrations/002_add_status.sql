alter table `orders` add column `status` varchar(20) not null default 'paid';
