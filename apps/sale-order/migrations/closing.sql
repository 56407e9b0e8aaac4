-- Who closed each order's payment phase first: `paid` (a payment was confirmed) or
-- `canceled` (the payment deadline passed). The first insert wins; `decided_by` is the
-- event whose handler decided, so a redelivered event finds its own decision.
CREATE TABLE so_order_closing (
    order_id VARCHAR(64) PRIMARY KEY,
    outcome VARCHAR(16) NOT NULL,
    decided_by VARCHAR(36) NOT NULL
);
