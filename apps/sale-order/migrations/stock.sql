-- The catalogue's stock (one table set on every backend). `so_stock.available` is what
-- orders may still reserve; a reservation holds its units per order and SKU; each order
-- has one decision, so a redelivered `order-placed` decides nothing twice.
CREATE TABLE so_stock (
    sku VARCHAR(255) PRIMARY KEY,
    available BIGINT NOT NULL
);
CREATE TABLE so_reservation (
    order_id VARCHAR(64) NOT NULL,
    sku VARCHAR(255) NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (order_id, sku)
);
CREATE TABLE so_order_stock (
    order_id VARCHAR(64) PRIMARY KEY,
    outcome VARCHAR(16) NOT NULL
);
