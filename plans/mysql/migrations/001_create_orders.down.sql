drop table `orders`;
