-- message: Stocks: daily prices
-- parents: 20261210100000

-- create table public.stock_prices
CREATE TABLE public.stock_prices (
    symbol character varying(8) NOT NULL,
    day date NOT NULL,
    open double precision NOT NULL,
    high double precision NOT NULL,
    low double precision NOT NULL,
    close double precision NOT NULL,
    volume bigint NOT NULL,
    CONSTRAINT stock_prices_pkey PRIMARY KEY (symbol, day)
);
