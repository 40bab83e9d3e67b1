alter table `orders` drop column `status`;
