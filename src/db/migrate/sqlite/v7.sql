-- v7 (frozen).
-- Reports give every amount per currency, so the sales and RFM queries over orders by date
-- read each order's currency too: the covering index carries it (without it, each of the
-- window's orders costs a row lookup, which tripled `crm report sales`).
DROP INDEX IF EXISTS order_date_cover;
CREATE INDEX order_date_cover ON "order"(order_date, status, owner, customer, currency, amount);
