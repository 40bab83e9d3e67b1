create index `orders_customer_idx` on `orders` (`customer`);
